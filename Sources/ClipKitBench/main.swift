import ClipKitLedger
print("bench")
