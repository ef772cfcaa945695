import { json } from "@remix-run/node";
import { db } from "~/lib/db.server";

export async function loader() {
  await db().query("SELECT 1");
  return json({ ok: true });
}
