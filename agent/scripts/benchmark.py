# The reference frame of the farm's work unit (docs/design.md §2): one WU is one render of
# this frame. The scene is built here from nothing (Blender's factory scene differs from
# version to version), so it is the same on every machine: Cycles on the CPU, a fixed
# seed, samples and resolution, adaptive sampling and denoising off. The frame is
# rendered RENDERS times in this one Blender, each timed; the agent takes the median, so
# one slow render (a first render's warm-up, a busy moment) does not move the WUPM. The
# thread count is the command line's -t, as for the agent's renders.
# Prints one `CACTUS_BENCHMARK {json}` line: each render's seconds.
import json
import sys
import time

import bmesh
import bpy

RENDERS = 5
SAMPLES = 32
WIDTH, HEIGHT = 192, 108

try:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.render.engine = "CYCLES"
    cycles = scene.cycles
    cycles.device = "CPU"
    cycles.samples = SAMPLES
    cycles.seed = 0
    cycles.use_adaptive_sampling = False
    cycles.use_denoising = False
    scene.render.resolution_x = WIDTH
    scene.render.resolution_y = HEIGHT
    scene.render.resolution_percentage = 100

    def material(name, color, metallic=0.0, roughness=0.5, transmission=0.0):
        made = bpy.data.materials.new(name)
        made.use_nodes = True
        shader = made.node_tree.nodes["Principled BSDF"]
        shader.inputs["Base Color"].default_value = color
        shader.inputs["Metallic"].default_value = metallic
        shader.inputs["Roughness"].default_value = roughness
        shader.inputs["Transmission"].default_value = transmission
        return made

    def mesh(name, build):
        made = bpy.data.meshes.new(name)
        shape = bmesh.new()
        build(shape)
        shape.to_mesh(made)
        shape.free()
        for polygon in made.polygons:
            polygon.use_smooth = True
        return made

    def place(name, data, location, made_of=None):
        obj = bpy.data.objects.new(name, data)
        obj.location = location
        if made_of is not None:
            obj.data.materials.append(made_of)
        scene.collection.objects.link(obj)
        return obj

    sphere = lambda shape: bmesh.ops.create_icosphere(shape, subdivisions=4, radius=1.0)
    place("floor", mesh("floor", lambda shape: bmesh.ops.create_grid(shape, x_segments=1, y_segments=1, size=10)), (0, 0, 0),
          material("floor", (0.8, 0.8, 0.8, 1), roughness=0.3))
    place("metal", mesh("metal", sphere), (-2.2, 0, 1), material("metal", (0.9, 0.6, 0.2, 1), metallic=1.0, roughness=0.2))
    place("glass", mesh("glass", sphere), (0, 0, 1), material("glass", (1, 1, 1, 1), roughness=0.0, transmission=1.0))
    place("plastic", mesh("plastic", sphere), (2.2, 0, 1), material("plastic", (0.1, 0.3, 0.8, 1), roughness=0.4))

    light = bpy.data.lights.new("key", "AREA")
    light.energy = 800
    light.size = 2
    place("key", light, (3, -3, 5)).rotation_euler = (0.6, 0.3, 0.8)
    world = bpy.data.worlds.new("world")
    world.use_nodes = True
    world.node_tree.nodes["Background"].inputs["Color"].default_value = (0.05, 0.07, 0.1, 1)
    scene.world = world
    camera = place("camera", bpy.data.cameras.new("camera"), (0, -8, 3.2))
    camera.rotation_euler = (1.25, 0, 0)
    scene.camera = camera

    seconds = []
    for _ in range(RENDERS):
        started = time.perf_counter()
        bpy.ops.render.render(write_still=False)
        seconds.append(time.perf_counter() - started)
    print("CACTUS_BENCHMARK " + json.dumps({"seconds": seconds, "samples": SAMPLES, "width": WIDTH, "height": HEIGHT}), flush=True)
except Exception as error:  # a benchmark that did not run says why
    print("Error: cactus benchmark: %s" % error, flush=True)
    sys.exit(3)
