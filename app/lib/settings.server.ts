import { Setting } from "../../db/models";

/** Server-wide values kept in the database (generated secrets, the setup code's hash). */
export async function readSetting<T>(key: string): Promise<T | undefined> {
  const row = await Setting.findByPk(key);
  return row ? (row.value as T) : undefined;
}

export async function writeSetting(key: string, value: unknown): Promise<void> {
  await Setting.upsert({ key, value, updatedAt: new Date() });
}

/** Reads `key`, or stores `make()` under it the first time; replicas agree on one value. */
export async function settingOrCreate<T>(key: string, make: () => T): Promise<T> {
  await Setting.findOrCreate({ where: { key }, defaults: { key, value: make() } });
  return (await readSetting<T>(key)) as T;
}
