print("imagegen-server: not built yet")
