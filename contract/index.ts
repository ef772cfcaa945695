export * from "./accounts";
export * from "./agent";
export * from "./archives";
export * from "./endpoints";
export * from "./errors";
export * from "./projects";
export * from "./renders";
export * from "./scenes";
export * from "./text";
export * from "./workers";

export const API_PREFIX = "/api/v1";
export * from "./economy";
