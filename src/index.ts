import type { Env } from "./config";
import { app } from "./edge/app";
import { answerKnownPoll } from "./edge/known-poll";

export { RegionLog } from "./region/RegionLog";
export { UserInbox } from "./user/UserInbox";

export default {
  fetch: (request: Request, env: Env, ctx: ExecutionContext) =>
    answerKnownPoll(request, env) ?? app.fetch(request, env, ctx),
};
