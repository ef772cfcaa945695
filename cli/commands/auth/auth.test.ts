import fs from "node:fs/promises";
import path from "node:path";
import { http, HttpResponse } from "msw";
import { expect, test } from "vitest";
import { admin, apiError } from "../../testing/fixtures";
import { API, SERVER, TOKEN, cactus, loggedIn, rawModes, readTestConfig, setupCliTest, testConfigFile, writeTestConfig } from "../../testing/run";

const server = setupCliTest();

const session = { user: admin, token: "cct_new_token", tokenId: 5 };

test("login sends the password from stdin and keeps server and token in a 0600 config file", async () => {
  const bodies: unknown[] = [];
  server.use(
    http.post(`${API}/auth/login`, async ({ request }) => {
      bodies.push(await request.json());
      return HttpResponse.json(session, { status: 201 });
    }),
  );
  const result = await cactus(["login", "--server", `${SERVER}/`, "--username", "admin", "--password-stdin"], {
    stdin: "correct horse battery staple\n",
  });
  expect(result.code).toBe(0);
  expect(bodies).toEqual([
    { username: "admin", password: "correct horse battery staple", tokenName: expect.stringMatching(/^cactus CLI on /) },
  ]);
  expect(await readTestConfig()).toEqual({ server: SERVER, token: "cct_new_token" });
  expect((await fs.stat(testConfigFile())).mode & 0o777).toBe(0o600);
  expect((await fs.stat(path.dirname(testConfigFile()))).mode & 0o777).toBe(0o700);
  expect(result.stderr).toContain(`Logged in to ${SERVER} as admin`);
  expect(result.stdout).toBe("admin\n");
});

test("login --json prints the user and token id, never the token, on stdout", async () => {
  server.use(http.post(`${API}/auth/login`, () => HttpResponse.json(session, { status: 201 })));
  const result = await cactus(["login", "--server", SERVER, "-u", "admin", "--password-stdin", "--json"], { stdin: "pw-pw-pw-pw" });
  expect(result.code).toBe(0);
  expect(JSON.parse(result.stdout)).toEqual({ server: SERVER, user: admin, tokenId: 5 });
  expect(result.stdout).not.toContain("cct_new_token");
});

test("login with a wrong password exits 3 with the server's message and stores nothing", async () => {
  server.use(
    http.post(`${API}/auth/login`, () => HttpResponse.json(apiError("unauthorized", "Wrong username or password."), { status: 401 })),
  );
  const result = await cactus(["login", "--server", SERVER, "-u", "admin", "--password-stdin"], { stdin: "nope\n" });
  expect(result.code).toBe(3);
  expect(result.stderr).toContain("Wrong username or password.");
  // No token was sent: no advice about tokens, nor to run the login that just failed.
  expect(result.stderr).not.toMatch(/CACTUS_TOKEN|run `cactus login`/);
  await expect(fs.access(testConfigFile())).rejects.toThrow();
});

test("login without a server is a usage error", async () => {
  const result = await cactus(["login", "-u", "admin", "--password-stdin"], { stdin: "pw" });
  expect(result.code).toBe(2);
  expect(result.stderr).toContain("--server");
});

test("login without --password-stdin and without a terminal says how to pipe the password", async () => {
  const result = await cactus(["login", "--server", SERVER, "-u", "admin"]);
  expect(result.code).toBe(2);
  expect(result.stderr).toContain("--password-stdin");
});

test("login with empty stdin is a usage error, before any request", async () => {
  const result = await cactus(["login", "--server", SERVER, "-u", "admin", "--password-stdin"], { stdin: "" });
  expect(result.code).toBe(2);
  expect(result.stderr).toContain("stdin was empty");
});

test("an unreachable server exits 1 saying which server", async () => {
  server.use(http.post(`${API}/auth/login`, () => HttpResponse.error()));
  const result = await cactus(["login", "--server", SERVER, "-u", "admin", "--password-stdin"], { stdin: "pw" });
  expect(result.code).toBe(1);
  expect(result.stderr).toContain(`cannot reach the server at ${SERVER}`);
});

test("signup redeems the code of a pasted link and stores the token like login", async () => {
  const bodies: unknown[] = [];
  server.use(
    http.post(`${API}/auth/signup`, async ({ request }) => {
      bodies.push(await request.json());
      return HttpResponse.json({ ...session, user: { ...admin, id: 2, username: "ada", role: "user" } }, { status: 201 });
    }),
  );
  const result = await cactus(
    ["signup", "--server", SERVER, "--invite", `${SERVER}/signup?code=cci_abc`, "-u", "ada", "--password-stdin", "--json"],
    { stdin: "a long enough password\n" },
  );
  expect(result.code).toBe(0);
  expect(bodies).toEqual([{ invite: "cci_abc", username: "ada", password: "a long enough password", tokenName: expect.any(String) }]);
  expect(JSON.parse(result.stdout).user.username).toBe("ada");
  expect(await readTestConfig()).toEqual({ server: SERVER, token: "cct_new_token" });
});

test("signup with a used invitation exits 1 with the server's message", async () => {
  server.use(
    http.post(`${API}/auth/signup`, () =>
      HttpResponse.json(apiError("bad_request", "This invitation was already used; ask for a new one."), { status: 400 }),
    ),
  );
  const result = await cactus(["signup", "--server", SERVER, "--invite", "cci_x", "-u", "ada", "--password-stdin"], { stdin: "pw" });
  expect(result.code).toBe(1);
  expect(result.stderr).toContain("already used");
});

test("whoami sends the bearer token and prints the user, as JSON or a line", async () => {
  await loggedIn();
  const auth: (string | null)[] = [];
  server.use(
    http.get(`${API}/me`, ({ request }) => {
      auth.push(request.headers.get("authorization"));
      return HttpResponse.json(admin);
    }),
  );
  const json = await cactus(["whoami", "--json"]);
  expect(json.code).toBe(0);
  expect(JSON.parse(json.stdout)).toEqual(admin);
  expect(json.stderr).toBe("");
  const human = await cactus(["whoami"]);
  expect(human.stdout).toBe(`admin (admin) on ${SERVER} · 100 credits\n`);
  expect(auth).toEqual([`Bearer ${TOKEN}`, `Bearer ${TOKEN}`]);
});

test("whoami with a refused token exits 3 and says how to sign in again", async () => {
  await loggedIn();
  server.use(http.get(`${API}/me`, () => HttpResponse.json(apiError("unauthorized", "This token was revoked."), { status: 401 })));
  const result = await cactus(["whoami", "--json"]);
  expect(result.code).toBe(3);
  expect(result.stdout).toBe("");
  expect(result.stderr).toContain("This token was revoked.");
  expect(result.stderr).toContain("cactus login");
});

test("a refused token whose message already says to run `cactus login` is not told so twice", async () => {
  await loggedIn();
  const message = "This API token is not valid. Run `cactus login` or create a new token.";
  server.use(http.get(`${API}/me`, () => HttpResponse.json(apiError("unauthorized", message), { status: 401 })));
  const result = await cactus(["whoami"]);
  expect(result.code).toBe(3);
  expect(result.stderr).toContain(`${message} (check CACTUS_TOKEN / --token too)`);
  expect(result.stderr.match(/cactus login/g)).toHaveLength(1);
});

test("whoami when never logged in exits 3 without a request", async () => {
  const result = await cactus(["whoami"]);
  expect(result.code).toBe(3);
  expect(result.stderr).toContain("not logged in");
});

test("whoami with a server but no token exits 3 without a request", async () => {
  const result = await cactus(["whoami"], { env: { CACTUS_SERVER: SERVER } });
  expect(result.code).toBe(3);
  expect(result.stderr).toContain("not logged in");
});

test("a 500 answer is an error (exit 1) with the server's message", async () => {
  await loggedIn();
  server.use(http.get(`${API}/me`, () => HttpResponse.json(apiError("internal", "The server failed."), { status: 500 })));
  const result = await cactus(["whoami"]);
  expect(result.code).toBe(1);
  expect(result.stderr).toContain("The server failed.");
});

test("an answer that breaks the contract is reported, not printed", async () => {
  await loggedIn();
  server.use(http.get(`${API}/me`, () => HttpResponse.json({ id: "one" })));
  const result = await cactus(["whoami", "--json"]);
  expect(result.code).toBe(1);
  expect(result.stdout).toBe("");
  expect(result.stderr).toContain("unexpected shape");
});

test("logout revokes the token on the server and removes it from the config, keeping the server", async () => {
  await loggedIn();
  const auth: (string | null)[] = [];
  server.use(
    http.post(`${API}/auth/logout`, ({ request }) => {
      auth.push(request.headers.get("authorization"));
      return new HttpResponse(null, { status: 204 });
    }),
  );
  const result = await cactus(["logout"]);
  expect(result.code).toBe(0);
  expect(auth).toEqual([`Bearer ${TOKEN}`]);
  expect(await readTestConfig()).toEqual({ server: SERVER });
  expect(result.stderr).toContain("Logged out");
});

test("logout with a token the server no longer accepts still forgets it", async () => {
  await writeTestConfig({ server: SERVER, token: "cct_revoked" });
  server.use(http.post(`${API}/auth/logout`, () => HttpResponse.json(apiError("unauthorized", "Revoked."), { status: 401 })));
  const result = await cactus(["logout", "--json"]);
  expect(result.code).toBe(0);
  expect(JSON.parse(result.stdout)).toEqual({ server: SERVER, revoked: false });
  expect(await readTestConfig()).toEqual({ server: SERVER });
});

test("login at a terminal asks for the password without echoing it", async () => {
  rawModes.length = 0;
  const bodies: { password: string }[] = [];
  server.use(
    http.post(`${API}/auth/login`, async ({ request }) => {
      bodies.push((await request.json()) as { password: string });
      return HttpResponse.json(session, { status: 201 });
    }),
  );
  const result = await cactus(["login", "--server", SERVER, "-u", "admin"], { typed: "secreX\u007ft\r" });
  expect(result.code).toBe(0);
  expect(bodies[0].password).toBe("secret");
  expect(result.stderr).toContain("Password: ");
  expect(result.stderr).not.toContain("secre");
  expect(rawModes).toEqual([true, false]);
});
