// The publisher forms: each calls one publisher route through the demo's proxy and shows the answer.
import { DemoApiError, publisher } from "./api.ts";

const answer = () => document.getElementById("answer")!;

/** The answer shown, and whether it is still awaited (data-state, for the browser test to wait on). */
function show(text: string, state: "pending" | "done" | "failed") {
  answer().textContent = text;
  answer().dataset.state = state;
}

/** "a, b c" → ["a", "b", "c"] */
const list = (text: string) => text.split(/[\s,]+/).filter(Boolean);

/** The optional title, left out when empty (postbox refuses an empty one). */
const content = (fields: FormData) => {
  const title = String(fields.get("title") ?? "").trim();
  return { ...(title && { title }), body: String(fields.get("body")) };
};

const path = (...parts: string[]) => parts.map(encodeURIComponent).join("/");

/** What each form sends: its method, its path under /admin/v1, and its body. */
const requests: Record<string, (fields: FormData) => [string, string, unknown?]> = {
  personal: (f) => ["POST", `${path("users", String(f.get("user")))}/messages`, content(f)],
  announcement: (f) => ["POST", "announcements", { regions: list(String(f.get("regions"))), ...content(f) }],
  bulk: (f) => ["POST", "messages", { users: list(String(f.get("users"))), ...content(f) }],
  "retract-personal": (f) => ["DELETE", path("users", String(f.get("user")), "messages", String(f.get("seq")))],
  "retract-announcement": (f) => ["DELETE", path("regions", String(f.get("region")), "announcements", String(f.get("id")))],
};

/** Wires the forms; `defaults` fills their user and region fields with the inbox's. */
export function startPublisher(defaults: { user: string; region: string }) {
  for (const id of ["personal-user", "retract-user", "bulk-users"]) (document.getElementById(id) as HTMLInputElement).value = defaults.user;
  for (const id of ["announcement-regions", "retract-region"]) (document.getElementById(id) as HTMLInputElement).value = defaults.region;
  for (const [id, request] of Object.entries(requests)) {
    const form = document.getElementById(id) as HTMLFormElement;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const [method, where, body] = request(new FormData(form));
      show(`${method} /admin/v1/${where} …`, "pending");
      try {
        const result = await publisher(method, where, body);
        show(`${method} /admin/v1/${where}\n${JSON.stringify(result, null, 2)}`, "done");
      } catch (error) {
        const detail = error instanceof DemoApiError ? JSON.stringify(error.answer, null, 2) : String(error);
        show(`${method} /admin/v1/${where}\n${detail}`, "failed");
      }
    });
  }
}
