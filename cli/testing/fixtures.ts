import type { ArchiveDto, ProjectDto, RenderDto, UserDto, WorkerDto } from "../../contract";

export const CREATED_AT = "2026-11-24T10:00:00.000Z";

export const admin: UserDto = { id: 1, username: "admin", role: "admin", credits: 100, createdAt: CREATED_AT };

export function project(id: number, name: string): ProjectDto {
  return { id, name, archiveCount: 0, createdAt: CREATED_AT };
}

export function archive(overrides: Partial<ArchiveDto> = {}): ArchiveDto {
  return {
    id: 7,
    projectId: 3,
    filename: "shot.blend",
    hash: "a".repeat(64),
    size: 20,
    kind: "blend",
    mainPath: null,
    facts: {
      blenderVersion: "3.4",
      compression: "none",
      scene: null,
      frameStart: null,
      frameEnd: null,
      frameStep: null,
      fps: null,
      resolutionX: null,
      resolutionY: null,
      resolutionPercentage: null,
      outputWidth: null,
      outputHeight: null,
      engine: null,
      samples: null,
      denoising: null,
      outputFormat: null,
      activeCamera: null,
      cameras: null,
      viewLayers: null,
      hasScripts: null,
      scripts: null,
      missingFiles: null,
      cameraObjects: null,
      scenes: null,
    },
    inspection: { status: "waiting", error: null, at: null },
    sceneCheck: null,
    createdAt: CREATED_AT,
    ...overrides,
  };
}

export const apiError = (code: string, message: string) => ({ error: { code, message } });

export function render(overrides: Partial<RenderDto> = {}): RenderDto {
  return {
    id: 12,
    projectId: 3,
    archiveId: 7,
    archiveFilename: "shot.blend",
    status: "queued",
    frameStart: 1,
    frameEnd: 24,
    frameStep: 1,
    chunkSize: 1,
    format: "PNG",
    options: { scene: null, camera: null, viewLayer: null, resolutionPercentage: null, samples: null },
    scene: null,
    warnings: [],
    price: 0,
    escrow: 0,
    maxCredits: null,
    onlyEnabledWorkers: false,
    tasks: 24,
    frames: { total: 24, done: 0, failed: 0, rendering: 0, queued: 24 },
    workers: [],
    failure: null,
    waiting: null,
    estimateOnly: false,
    sample: { frames: 0, done: 0 },
    estimate: null,
    createdAt: CREATED_AT,
    startedAt: null,
    finishedAt: null,
    ...overrides,
  };
}

export function worker(id: number, name: string, overrides: Partial<WorkerDto> = {}): WorkerDto {
  return {
    id,
    name,
    enabled: true,
    status: "offline",
    lastSeenAt: null,
    pausedReason: null,
    blenderVersion: null,
    capabilities: {},
    wupm: null,
    wupmMeasuredAt: null,
    othersUnsandboxed: false,
    createdAt: CREATED_AT,
    ...overrides,
  };
}
