// The client routes over HTTP, for one device: the token on each request (fetched anew each time, so
// it may refresh), the device as ?device=, and a PostboxError for every answer that is not a success.
import { errorOf } from "./errors.ts";
import { tokenOf } from "./token.ts";
import type { AckAnswer, ArrivedAnswer, PushChannelAnswer, PushRegistrationAnswer, ReadAnswer } from "../../src/shared/responses.ts";
import type { ReadReceipt } from "../../src/shared/schema.ts";
import type { FetchLike, InboxAnswer, TokenSource, UnreadAnswer } from "./types.ts";

export type InboxQuery = { region?: string; since?: number; epoch?: string; ack?: number; limit?: number };

export class PostboxHttp {
  constructor(
    private readonly base: string,
    private readonly token: TokenSource,
    private readonly device: string,
    private readonly fetch: FetchLike,
  ) {}

  /** The address of a client route with ?device= and `query` (undefined values left out). */
  url(path: string, query: Record<string, string | number | undefined> = {}) {
    const url = new URL(path, this.base);
    url.searchParams.set("device", this.device);
    for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, String(value));
    return url.toString();
  }

  private async request<T>(method: string, path: string, query: Record<string, string | number | undefined>, body?: unknown) {
    const headers: Record<string, string> = { Authorization: `Bearer ${await tokenOf(this.token)}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await this.fetch(this.url(path, query), {
      method,
      headers,
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    if (!response.ok) throw await errorOf(response);
    return (await response.json()) as T;
  }

  inbox(query: InboxQuery) {
    return this.request<InboxAnswer>("GET", "/v1/inbox", query);
  }

  ack(upTo: number) {
    return this.request<AckAnswer>("POST", "/v1/inbox/ack", {}, { upTo });
  }

  read(receipt: ReadReceipt) {
    return this.request<ReadAnswer>("POST", "/v1/inbox/read", {}, receipt);
  }

  /** The service worker's report: these reached the device by push. */
  arrived(seqs: number[]) {
    return this.request<ArrivedAnswer>("POST", "/v1/inbox/arrived", {}, { seqs, via: "push" });
  }

  unread(limit?: number) {
    return this.request<UnreadAnswer>("GET", "/v1/inbox/unread", { limit });
  }

  pushChannel() {
    return this.request<PushChannelAnswer>("GET", "/v1/push", {});
  }

  registerPush(registration: unknown) {
    return this.request<PushRegistrationAnswer>("PUT", "/v1/push", {}, registration);
  }

  unregisterPush() {
    return this.request<PushRegistrationAnswer>("DELETE", "/v1/push", {});
  }
}
