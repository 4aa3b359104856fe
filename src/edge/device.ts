// Which of the user's devices a client request is from.
import { DEFAULT_DEVICE } from "../shared/schema";
import type { Client } from "./context";
import { problem } from "./problem";

/** The device comes from the token's claim, else the query, else it is `default`; another than the claim is refused. */
export function deviceOf(client: Client, asked: string | undefined) {
  if (client.device && asked && asked !== client.device) {
    throw problem(403, `This token is for device ${client.device}; it cannot act as device ${asked}.`);
  }
  return client.device ?? asked ?? DEFAULT_DEVICE;
}
