"""Builds a scene whose picture is its image textures, for the sandbox tests.

Run: blender -b --factory-startup --python tests/scenes/make-texture-scene.py -- '<json>'
where <json> holds: path (where to save the .blend) and textures (the image paths the
file names, as a .blend stores them: absolute, or // for relative to the .blend).

Each texture fills a square strip of the frame, left to right, as an emission seen
through an orthographic camera with the Standard view transform: a strip's pixels are
the image's own colour, or Cycles' magenta when the file cannot be read.
"""
import json
import sys

import bpy

params = json.loads(sys.argv[sys.argv.index("--") + 1])
textures = params["textures"]
strip = 16

bpy.ops.wm.read_factory_settings(use_empty=True)
scene = bpy.context.scene
scene.render.engine = "CYCLES"
scene.cycles.device = "CPU"
scene.cycles.samples = 1
scene.cycles.use_denoising = False
scene.render.resolution_x = strip * len(textures)
scene.render.resolution_y = strip
scene.render.resolution_percentage = 100
scene.render.image_settings.file_format = "PNG"
scene.view_settings.view_transform = "Standard"
scene.view_settings.look = "None"
scene.frame_start = 1
scene.frame_end = 1

world = bpy.data.worlds.new("World")
world.color = (0.0, 0.0, 0.0)
scene.world = world

for index, texture in enumerate(textures):
    mesh = bpy.data.meshes.new("Strip %d" % index)
    mesh.from_pydata([(-1, -1, 0), (1, -1, 0), (1, 1, 0), (-1, 1, 0)], [], [(0, 1, 2, 3)])
    strip_object = bpy.data.objects.new("Strip %d" % index, mesh)
    strip_object.location = (2 * index - (len(textures) - 1), 0, 0)
    scene.collection.objects.link(strip_object)

    image = bpy.data.images.new("Texture %d" % index, 4, 4)
    image.source = "FILE"
    image.filepath = texture
    material = bpy.data.materials.new("Texture %d" % index)
    material.use_nodes = True
    nodes = material.node_tree.nodes
    nodes.clear()
    image_node = nodes.new("ShaderNodeTexImage")
    image_node.image = image
    image_node.interpolation = "Closest"
    emission = nodes.new("ShaderNodeEmission")
    output = nodes.new("ShaderNodeOutputMaterial")
    material.node_tree.links.new(image_node.outputs["Color"], emission.inputs["Color"])
    material.node_tree.links.new(emission.outputs["Emission"], output.inputs["Surface"])
    mesh.materials.append(material)

camera_data = bpy.data.cameras.new("Camera")
camera_data.type = "ORTHO"
camera_data.ortho_scale = 2 * len(textures)
camera = bpy.data.objects.new("Camera", camera_data)
camera.location = (0, 0, 5)
scene.collection.objects.link(camera)
scene.camera = camera

# relative_remap off: the // paths stay as given, relative to wherever the .blend is put.
bpy.ops.wm.save_as_mainfile(filepath=params["path"], compress=False, relative_remap=False)
print("CACTUS_SCENE " + json.dumps({"path": params["path"]}))
