// Each device's push channel (PUT /v1/push): one registration per device, a
// new one replacing the old. The rows are few (at most DEVICE_LIMIT) and read
// only where a channel matters: the registration routes, the publisher's view,
// a publish (which devices it is pushed to) and each push attempt.
import type { PushChannel } from "../push/channel";
import type { PushRegistration } from "../shared/push-registration";
import type { MeteredSql } from "../shared/sql";

export class PushRegistrations {
  constructor(private readonly sql: MeteredSql) {}

  register(device: string, registration: PushRegistration) {
    this.sql.run(
      "INSERT OR REPLACE INTO push_registrations (device, channel, registration) VALUES (?, ?, ?)",
      device,
      registration.channel,
      JSON.stringify(registration),
    );
  }

  remove(device: string) {
    this.sql.run("DELETE FROM push_registrations WHERE device = ?", device);
  }

  get(device: string): PushRegistration | undefined {
    const row = this.sql.first<{ registration: string }>("SELECT registration FROM push_registrations WHERE device = ?", device);
    return row && JSON.parse(row.registration);
  }

  /** Removes the device's registration if it is still `registration` (not one made since); answers whether it did. */
  removeIf(device: string, registration: PushRegistration) {
    const removed = this.sql.run(
      "DELETE FROM push_registrations WHERE device = ? AND registration = ? RETURNING device",
      device,
      JSON.stringify(registration),
    );
    return removed === 1;
  }

  channelOf(device: string): PushChannel | null {
    return this.sql.first<{ channel: PushChannel }>("SELECT channel FROM push_registrations WHERE device = ?", device)?.channel ?? null;
  }

  /** Every device's channel, for the publisher's view. */
  channels(): Map<string, PushChannel> {
    const rows = this.sql.all<{ device: string; channel: PushChannel }>("SELECT device, channel FROM push_registrations");
    return new Map(rows.map((row) => [row.device, row.channel]));
  }
}
