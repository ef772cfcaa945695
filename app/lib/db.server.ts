import pg from "pg";
import { Sequelize } from "sequelize";
import { initModels } from "../../db/models";

// Ids and milli-credit amounts are bigint columns whose values stay far below 2^53.
pg.defaults.parseInt8 = true;

let current: Sequelize | undefined;

export function connectDatabase(url: string): Sequelize {
  const sequelize = new Sequelize(url, {
    dialect: "postgres",
    dialectModule: pg,
    logging: process.env.CACTUS_SQL_LOG ? console.log : false,
    pool: { max: 20, min: 0, idle: 10_000 },
  });
  initModels(sequelize);
  current = sequelize;
  return sequelize;
}

/** The server's connection pool, set up at boot. */
export function db(): Sequelize {
  if (!current) throw new Error("The database is not connected yet: startCactus() connects it.");
  return current;
}
