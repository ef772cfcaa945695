import fs from "node:fs";
import http from "node:http";
import { API_PREFIX, CONTENT_SHA256_HEADER } from "../../contract";

/** A JSON call to the API; anything but 2xx is an error carrying the server's answer. */
export async function callApi<T>(server: string, method: string, path: string, token?: string, body?: unknown): Promise<T> {
  const response = await fetch(`${server}${API_PREFIX}${path}`, {
    method,
    headers: {
      Accept: "application/json",
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

export interface UploadAnswer {
  status: number;
  body: { size: number; hash: string; deduplicated?: boolean };
}

/** Where the archive upload of a project goes. */
export function uploadUrl(server: string, projectId: number, filename: string): URL {
  const url = new URL(`${server}${API_PREFIX}/projects/${projectId}/archives`);
  url.searchParams.set("filename", filename);
  return url;
}

/**
 * The file as a raw streamed body, as the CLI sends it: a read stream piped into the
 * request with Content-Length and the sha256 header, nothing held in memory.
 */
export function streamUpload(options: {
  url: URL;
  token?: string;
  file: string;
  size: number;
  sha256: string;
}): Promise<UploadAnswer> {
  const { url } = options;
  return new Promise((resolve, reject) => {
    const request = http.request(url, {
      method: "POST",
      headers: {
        Accept: "application/json",
        "Content-Type": "application/octet-stream",
        "Content-Length": String(options.size),
        [CONTENT_SHA256_HEADER]: options.sha256,
        ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}),
      },
    });
    request.on("error", reject);
    request.on("response", (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("error", reject);
      response.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        const status = response.statusCode ?? 0;
        if (status < 200 || status >= 300) reject(new Error(`the upload answered ${status}: ${text}`));
        else resolve({ status, body: JSON.parse(text) as UploadAnswer["body"] });
      });
    });
    const source = fs.createReadStream(options.file, { highWaterMark: 1 << 20 });
    source.on("error", (error) => request.destroy(error));
    source.pipe(request);
  });
}
