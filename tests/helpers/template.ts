export const TEMPLATE_DATABASE = "cactus_template";
