export * from "./accounts";
export * from "./archives";
export * from "./endpoints";
export * from "./errors";
export * from "./projects";

export const API_PREFIX = "/api/v1";
