print("clipkit")
