# Stops and removes the "kube-proxy" service registered by register-sc.ps1. HNS state stays in place.
$ErrorActionPreference = "Stop"
sc.exe stop kube-proxy | Out-Null
$deadline = (Get-Date).AddSeconds(30)
while ((Get-Service kube-proxy).Status -ne "Stopped" -and (Get-Date) -lt $deadline) { Start-Sleep 1 }
sc.exe delete kube-proxy
