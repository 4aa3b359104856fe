// Types `env` and `exports` from "cloudflare:workers" as this Worker's.
import type { Env as PostboxEnv } from "../src/config";

declare global {
  namespace Cloudflare {
    interface Env extends PostboxEnv {}
    interface GlobalProps {
      mainModule: typeof import("../src/index");
    }
  }
}
