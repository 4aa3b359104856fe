// What the page's client and the service worker tell each other (postMessage), shared by both sides.
import type { PersonalMessage } from "../../src/shared/schema.ts";

/** Page → worker, after subscribeWebPush and again whenever the token changes: where and as whom to report. */
export type WorkerConfig = { type: "postbox:config"; url: string; token: string; device: string };

/** Worker → pages: a message that came by push, a notification clicked. */
export type PageMessage = { type: "postbox:push"; message: PersonalMessage } | { type: "postbox:click"; message: PersonalMessage };
