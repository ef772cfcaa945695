import { QueryTypes } from "sequelize";
import { z } from "zod";
import { isNotificationEvent, NOTIFICATION_EVENTS, type NotificationEvent } from "../../domain/notifications";
import { db } from "../lib/db.server";
import { getRuntime } from "../lib/runtime.server";

// A person's web push: the devices that subscribed (push_subscriptions) and the events
// they switched off (push_preferences). The sending is app/lib/push/.

export interface PushSettings {
  /** For pushManager.subscribe's applicationServerKey. */
  publicKey: string;
  /** Events switched off; every other event is pushed to every subscribed device. */
  muted: NotificationEvent[];
  /** Subscribed devices (browsers) of the person. */
  devices: number;
}

export async function pushSettings(userId: number): Promise<PushSettings> {
  const [row] = await db().query<{ muted: string[] | null; devices: number }>(
    `SELECT (SELECT muted FROM push_preferences WHERE user_id = :userId) AS muted,
            (SELECT count(*)::int FROM push_subscriptions WHERE user_id = :userId) AS devices`,
    { replacements: { userId }, type: QueryTypes.SELECT },
  );
  return { publicKey: getRuntime().vapidPublicKey, muted: (row.muted ?? []).filter(isNotificationEvent), devices: row.devices };
}

const base64url = z.string().regex(/^[A-Za-z0-9_-]+={0,2}$/, "is not base64url").max(200);

/**
 * What PushSubscription.toJSON() gives. Push services are https; plain http is taken only
 * from a loopback address outside production (a stand-in push service in tests).
 */
export const pushSubscriptionSchema = z.object({
  endpoint: z
    .url()
    .max(2000)
    .refine((value) => {
      const url = new URL(value);
      if (url.protocol === "https:") return true;
      const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
      return url.protocol === "http:" && loopback && getRuntime().config.NODE_ENV !== "production";
    }, "A push endpoint is an https address of the browser's push service."),
  keys: z.object({ p256dh: base64url, auth: base64url }),
});
export type PushSubscriptionJson = z.infer<typeof pushSubscriptionSchema>;

/** Keeps the device's subscription for the person (a device that signed in as someone else moves over). */
export async function savePushSubscription({
  userId,
  subscription,
  userAgent,
}: {
  userId: number;
  subscription: PushSubscriptionJson;
  userAgent: string | null;
}): Promise<void> {
  await db().query(
    `INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, user_agent)
     VALUES (:userId, :endpoint, :p256dh, :auth, :userAgent)
     ON CONFLICT (endpoint) DO UPDATE SET user_id = excluded.user_id, p256dh = excluded.p256dh, auth = excluded.auth,
                                         user_agent = excluded.user_agent`,
    {
      replacements: { userId, endpoint: subscription.endpoint, ...subscription.keys, userAgent: userAgent?.slice(0, 300) ?? null },
    },
  );
}

export async function deletePushSubscription({ userId, endpoint }: { userId: number; endpoint: string }): Promise<void> {
  await db().query(`DELETE FROM push_subscriptions WHERE user_id = :userId AND endpoint = :endpoint`, {
    replacements: { userId, endpoint },
  });
}

/** Switches the events on (`on`) and the rest off. */
export async function setPushEvents({ userId, on }: { userId: number; on: NotificationEvent[] }): Promise<void> {
  const muted = NOTIFICATION_EVENTS.filter((event) => !on.includes(event));
  await db().query(
    `INSERT INTO push_preferences (user_id, muted) VALUES ($userId, $muted::text[])
     ON CONFLICT (user_id) DO UPDATE SET muted = excluded.muted, updated_at = now()`,
    { bind: { userId, muted } },
  );
}
