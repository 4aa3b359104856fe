import type { Problem } from "./types.ts";

/** An HTTP answer that was not a success: its status and its application/problem+json body. */
export class PostboxError extends Error {
  override readonly name = "PostboxError";
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(`${problem.title} (${status}): ${problem.detail}`);
  }
}

/** The PostboxError of a failed answer (a body that is not problem+json is described by its status). */
export async function errorOf(response: Response): Promise<PostboxError> {
  const text = await response.text().catch(() => "");
  let problem: Problem | null = null;
  try {
    const parsed = JSON.parse(text) as Partial<Problem>;
    if (typeof parsed.title === "string" && typeof parsed.detail === "string") problem = parsed as Problem;
  } catch {
    // Not JSON: a proxy's page, say.
  }
  return new PostboxError(
    response.status,
    problem ?? { type: "about:blank", title: response.statusText || "Error", status: response.status, detail: text.slice(0, 200) },
  );
}
