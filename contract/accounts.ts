import { z } from "zod";
import { emailSchema, nameSchema } from "./text";

export const usernameSchema = z
  .string()
  .trim()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]{1,38}$/,
    "A username is 2–39 letters, digits, '.', '_' or '-', starting with a letter or digit.",
  );

export const passwordSchema = z
  .string()
  .min(10, "A password has at least 10 characters.")
  .max(200, "A password has at most 200 characters.");

export const roleSchema = z.enum(["admin", "user"]);

export const userSchema = z.object({
  id: z.number().int(),
  username: z.string(),
  role: roleSchema,
  credits: z.number().describe("Credits balance (1 credit = 1000 milli-credits)."),
  createdAt: z.iso.datetime(),
});
export type UserDto = z.infer<typeof userSchema>;

export const loginRequestSchema = z.object({
  username: z.string().min(1).max(200),
  password: z.string().min(1).max(200),
  tokenName: nameSchema("token").optional().describe("Name of the API token to create."),
});

/** Login and sign-up over the API both answer with a new API token (shown once). */
export const sessionTokenResponseSchema = z.object({
  user: userSchema,
  token: z.string().describe("API token for `Authorization: Bearer …`; shown once."),
  tokenId: z.number().int(),
});

export const signupRequestSchema = z.object({
  invite: z.string().trim().min(1).max(200),
  username: usernameSchema,
  password: passwordSchema,
  tokenName: nameSchema("token").optional(),
});

export const changePasswordRequestSchema = z.object({
  currentPassword: z.string().min(1, "Enter your current password.").max(200),
  newPassword: passwordSchema,
});

export const changePasswordResponseSchema = z.object({
  endedSessions: z.number().int().describe("Browser sessions signed out by the change (all but the one asking)."),
});

export const tokenNameSchema = nameSchema("token");

export const createTokenRequestSchema = z.object({ name: tokenNameSchema });

export const apiTokenSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  createdAt: z.iso.datetime(),
  lastUsedAt: z.iso.datetime().nullable(),
  revokedAt: z.iso.datetime().nullable(),
});

export const createdTokenSchema = apiTokenSchema.extend({
  token: z.string().describe("The token itself; shown once, only its hash is stored."),
});

export const tokenListSchema = z.object({ tokens: z.array(apiTokenSchema) });

export const createInvitationRequestSchema = z.object({ email: emailSchema });

export const invitationSchema = z.object({
  id: z.number().int(),
  email: z.string(),
  expiresAt: z.iso.datetime(),
  usedAt: z.iso.datetime().nullable(),
  usedBy: z.string().nullable().describe("Username of whoever redeemed it."),
  credits: z.number().describe("The credits it grants whoever signs up with it."),
  createdAt: z.iso.datetime(),
});

export const createdInvitationSchema = invitationSchema.extend({
  code: z.string().describe("The one-time code; shown once."),
  url: z.string().describe("Sign-up link carrying the code."),
});

export const invitationListSchema = z.object({ invitations: z.array(invitationSchema) });

export const ledgerReasonSchema = z.enum(["grant", "escrow", "release", "payment"]);

export const creditsSchema = z.object({
  balance: z.number().describe("Credits I can spend."),
  escrow: z.number().describe("Credits my unfinished renders hold to pay other people's workers; what is left comes back at the end."),
  entries: z
    .array(
      z.object({
        at: z.iso.datetime(),
        amount: z.number().describe("Credits into (+) or out of (−) my balance; for a payment my render's escrow made, what it paid (−)."),
        reason: ledgerReasonSchema.describe(
          "grant: given by the farm; escrow / release: into and back out of a render's escrow; payment: a frame rendered by another person's worker (paid to me when it was mine).",
        ),
        render_id: z.number().int().nullable(),
      }),
    )
    .describe("Newest first, at most 100."),
});
export type CreditsDto = z.infer<typeof creditsSchema>;

export const grantCreditsRequestSchema = z.object({
  username: usernameSchema,
  credits: z.number().positive().max(1_000_000_000).describe("Credits to grant from the farm's account."),
});
