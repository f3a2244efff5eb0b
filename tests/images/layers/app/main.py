print("hello from the layers test image")
