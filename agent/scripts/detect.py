# What this Blender can do, as one `CACTUS_BLENDER {json}` line: its version and whether
# Cycles was built with OpenImageDenoise (Debian's 3.4.1 was not: a scene that denoises
# fails there with "Error: Build without OpenImageDenoiser").
import json

import bpy

try:
    import _cycles

    denoiser = bool(getattr(_cycles, "with_openimagedenoise", False))
except ImportError:
    denoiser = False

print("CACTUS_BLENDER " + json.dumps({"version": bpy.app.version_string, "denoiser": denoiser}), flush=True)
