# Which render engines this Blender can render with on this machine: the factory scene
# (a cube, a camera, a light) rendered tiny with each engine asked for, each image saved
# in the output folder, one `CACTUS_ENGINE {json}` line per engine. Eevee and Workbench
# need OpenGL (EGL's software fallback will do); Cycles only the CPU.
# Run as: blender -b --factory-startup --python-expr <this> -- '{"outputDir": …, "engines": […], "width": …, "height": …}'
import json
import os
import sys
import time

import bpy

job = json.loads(sys.argv[sys.argv.index("--") + 1])
scene = bpy.context.scene
render = scene.render
render.resolution_x = job["width"]
render.resolution_y = job["height"]
render.resolution_percentage = 100
render.image_settings.file_format = "PNG"
scene.cycles.device = "CPU"
scene.cycles.samples = 1
scene.cycles.use_denoising = False
scene.eevee.taa_render_samples = 1
for engine in job["engines"]:
    started = time.monotonic()
    outcome = {"engine": engine, "ok": False, "error": None}
    try:
        # The engine list is made at run time: an unknown name is a TypeError here.
        render.engine = engine
    except TypeError:
        outcome["error"] = "this Blender has no %s engine" % engine
    else:
        try:
            render.filepath = os.path.join(job["outputDir"], engine + ".png")
            bpy.ops.render.render(write_still=True)
            outcome["ok"] = True
        except Exception as error:  # a render that raises is this engine's answer, not the probe's end
            outcome["error"] = str(error).strip()
    outcome["seconds"] = round(time.monotonic() - started, 2)
    print("CACTUS_ENGINE " + json.dumps(outcome), flush=True)
