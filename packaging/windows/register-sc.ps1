# Registers kube-proxy.exe as a native SCM service with --windows-service (ops-surface.md §4.2).
# Without a console, logs go to --log-file (rotated by size).
param(
  [string]$KubeDir = "C:\k",
  [Parameter(Mandatory=$true)][string]$Hostname,
  [string]$NetworkName = "cbr0",
  [string]$ExtraArgs = ""
)
$ErrorActionPreference = "Stop"
$bin = "$KubeDir\kube-proxy.exe --windows-service --proxy-mode=kernelspace --hostname-override=$Hostname " +
       "--kubeconfig=$KubeDir\config --network-name=$NetworkName --log-file=$KubeDir\logs\kube-proxy.log $ExtraArgs"
sc.exe create kube-proxy binPath= "$bin" depend= "kubelet" start= auto
sc.exe failure kube-proxy reset= 0 actions= restart/10000
sc.exe start kube-proxy
