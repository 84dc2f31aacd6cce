# Stops and removes the nssm "kube-proxy" service. HNS load balancers stay in place (hnsproxy adopts
# them at its next start; upstream kube-proxy wipes and re-creates them at its start).
#   .\unregister-nssm.ps1 [-Nssm C:\k\nssm.exe]
param([string]$Nssm = "C:\k\nssm.exe")
$ErrorActionPreference = "Stop"
& $Nssm stop kube-proxy
& $Nssm remove kube-proxy confirm
