"""Builds a small deterministic test scene and saves it as a .blend.

Run: blender -b --factory-startup --python tests/scenes/make-scene.py -- '<json>'
where <json> holds: path, frames, width, height, engine, samples, denoise, and
optionally frameStep, camera (false: no camera at all, which Blender refuses to render),
activeCamera (false: a camera object, but not the scene's), extraCamera (the name of a
second camera object), viewLayers ([{name, use}]), extraScene ({name, engine, frames}: a
second scene of the same objects), scripts (a registered text block that, if it ever runs, writes
"<the .blend's path>.ran", and a driver that needs Python) and missingTexture (an image
whose file is not there) and samplesAtEnd (Cycles samples keyed from `samples` on the
first frame to this on the last, linearly: a render whose cost grows along the timeline).
An animated cube (keyframed location and rotation), a camera looking at it and a sun;
nothing random, so the same parameters give the same pictures.
"""
import json
import sys

import bpy

params = json.loads(sys.argv[sys.argv.index("--") + 1])

bpy.ops.wm.read_factory_settings(use_empty=True)
scene = bpy.context.scene

scene.frame_start = 1
scene.frame_end = params["frames"]
scene.frame_step = params.get("frameStep", 1)
scene.render.fps = 24
scene.render.resolution_x = params["width"]
scene.render.resolution_y = params["height"]
scene.render.resolution_percentage = 100
scene.render.engine = params["engine"]
scene.render.image_settings.file_format = "PNG"
scene.render.filepath = "//frames/frame_"

denoise = bool(params["denoise"])
if params["engine"] == "CYCLES":
    scene.cycles.device = "CPU"
    scene.cycles.samples = params["samples"]
    scene.cycles.use_adaptive_sampling = False
    scene.cycles.use_denoising = denoise
    scene.cycles.seed = 0
    if params.get("samplesAtEnd"):
        scene.cycles.keyframe_insert("samples", frame=1)
        scene.cycles.samples = params["samplesAtEnd"]
        scene.cycles.keyframe_insert("samples", frame=params["frames"])
        for curve in scene.animation_data.action.fcurves:
            for point in curve.keyframe_points:
                point.interpolation = "LINEAR"
        scene.cycles.samples = params["samples"]
elif params["engine"] == "BLENDER_EEVEE":
    scene.eevee.taa_render_samples = params["samples"]
for view_layer in scene.view_layers:
    view_layer.cycles.denoising_store_passes = False

world = bpy.data.worlds.new("World")
world.color = (0.05, 0.05, 0.08)
scene.world = world

mesh = bpy.data.meshes.new("Cube")
vertices = [(x, y, z) for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)]
faces = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
mesh.from_pydata(vertices, [], faces)
cube = bpy.data.objects.new("Cube", mesh)
scene.collection.objects.link(cube)
material = bpy.data.materials.new("Cactus green")
material.diffuse_color = (0.2, 0.7, 0.3, 1.0)
material.use_nodes = True
material.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value = (0.2, 0.7, 0.3, 1.0)
mesh.materials.append(material)

last = params["frames"]
for frame, x, angle in ((1, -1.5, 0.0), (last, 1.5, 3.14159)):
    cube.location = (x, 0.0, 0.0)
    cube.rotation_euler = (0.0, 0.0, angle)
    cube.keyframe_insert("location", frame=frame)
    cube.keyframe_insert("rotation_euler", frame=frame)

camera = bpy.data.objects.new("Camera", bpy.data.cameras.new("Camera"))
camera.location = (0.0, -9.0, 3.0)
camera.rotation_euler = (1.25, 0.0, 0.0)
if params.get("camera", True):
    scene.collection.objects.link(camera)
    # activeCamera false: the camera is there, but not the scene's (as in Blender's Sculpting template).
    if params.get("activeCamera", True):
        scene.camera = camera
if params.get("extraCamera"):
    close_up = bpy.data.objects.new(params["extraCamera"], bpy.data.cameras.new(params["extraCamera"]))
    close_up.location = (0.0, -5.0, 1.0)
    close_up.rotation_euler = (1.4, 0.0, 0.0)
    scene.collection.objects.link(close_up)

# viewLayers: [{"name", "use"}]: the scene's view layers, the first renamed, the others added.
for index, layer in enumerate(params.get("viewLayers", [])):
    view_layer = scene.view_layers[0] if index == 0 else scene.view_layers.new(layer["name"])
    view_layer.name = layer["name"]
    view_layer.use = layer["use"]

sun = bpy.data.objects.new("Sun", bpy.data.lights.new("Sun", type="SUN"))
sun.rotation_euler = (0.6, 0.2, 0.4)
scene.collection.objects.link(sun)

if params.get("scripts"):
    text = bpy.data.texts.new("setup.py")
    text.write("import bpy\nopen(bpy.data.filepath + '.ran', 'w').write('the file ran its own script')\n")
    text.use_module = True
    driver = cube.driver_add("scale", 2).driver
    driver.type = "SCRIPTED"
    driver.expression = "__import__('os').getpid() * 0 + 2"

if params.get("missingTexture"):
    image = bpy.data.images.new("Wood", 4, 4)
    image.source = "FILE"
    image.filepath = "//textures/wood.png"
    texture_node = material.node_tree.nodes.new("ShaderNodeTexImage")
    texture_node.image = image

# extraScene: {"name", "engine", "frames"}: a second scene showing the same objects through
# the same camera, with settings of its own.
if params.get("extraScene"):
    extra = params["extraScene"]
    other = bpy.data.scenes.new(extra["name"])
    other.render.engine = extra["engine"]
    other.render.resolution_x = params["width"]
    other.render.resolution_y = params["height"]
    other.render.resolution_percentage = 100
    other.frame_start = 1
    other.frame_end = extra["frames"]
    other.world = world
    for obj in list(scene.collection.objects):
        other.collection.objects.link(obj)
    other.camera = scene.camera
    if extra["engine"] == "CYCLES":
        other.cycles.samples = params["samples"]
        other.cycles.use_denoising = False
        other.cycles.seed = 0

bpy.ops.wm.save_as_mainfile(filepath=params["path"], compress=False)
print("CACTUS_SCENE " + json.dumps({"path": params["path"]}))
