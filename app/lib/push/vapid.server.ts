import webpush from "web-push";
import { settingOrCreate } from "../settings.server";

// The server's VAPID keys (RFC 8292): made at the first start and kept in the database,
// so every replica signs with the same ones and subscriptions outlive restarts.

export interface VapidKeys {
  subject: string;
  publicKey: string;
  privateKey: string;
}

export async function loadVapidKeys(publicUrl: string | undefined): Promise<VapidKeys> {
  const keys = await settingOrCreate("vapid_keys", () => webpush.generateVAPIDKeys());
  // Push services may write to the subject about a sender that misbehaves.
  const subject = publicUrl?.startsWith("https:") ? publicUrl : "mailto:cactus@localhost";
  return { subject, publicKey: keys.publicKey, privateKey: keys.privateKey };
}
