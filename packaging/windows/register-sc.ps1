# Registers kube-proxy.exe as a native SCM service with --windows-service (the sc.exe create/failure
# lines of kubernetes/kubernetes cluster/gce/windows/k8s-node-setup.psm1; pkg/windows/service):
# started after kubelet, restarted by the SCM 10 s after a failure (the counter resets after a day).
# Without a console, logs go to --log-file (rotated by size, --log-file-max-size).
#   .\register-sc.ps1 -Hostname $env:COMPUTERNAME -NetworkName cbr0
#   .\register-sc.ps1 -Hostname $env:COMPUTERNAME -NetworkName vxlan0 -SourceVip 10.244.1.250   # overlay
param(
  [string]$KubeDir = "C:\k",
  [Parameter(Mandatory=$true)][string]$Hostname,
  [string]$NetworkName = "cbr0",
  [string]$SourceVip = "",
  [string]$ExtraArgs = ""
)
$ErrorActionPreference = "Stop"
New-Item -ItemType Directory -Force "$KubeDir\logs" | Out-Null
$bin = "`"$KubeDir\kube-proxy.exe`" --windows-service --proxy-mode=kernelspace --hostname-override=$Hostname " +
       "--kubeconfig=`"$KubeDir\config`" --network-name=$NetworkName --log-file=`"$KubeDir\logs\kube-proxy.log`" " +
       "--logtostderr=false --hns-listing-cache=`"$KubeDir\hns-listing-cache.jsonl`""
if ($SourceVip) { $bin += " --feature-gates=WinOverlay=true --source-vip=$SourceVip --enable-dsr=false" }
if ($ExtraArgs) { $bin += " $ExtraArgs" }
sc.exe create kube-proxy binPath= "$bin" depend= "kubelet" start= auto DisplayName= "Kubernetes kube-proxy (hnsproxy)"
sc.exe failure kube-proxy reset= 86400 actions= restart/10000/restart/10000/restart/30000
sc.exe failureflag kube-proxy 1   # a non-zero exit (a start-up error) counts as a failure too
sc.exe start kube-proxy
