# Registers hnsproxy's kube-proxy.exe as the "kube-proxy" Windows service with nssm, the way
# microsoft/SDN's Kubernetes/flannel/register-svc.ps1 does. Existing registrations keep working
# unchanged: only the binary is replaced.
#   .\register-nssm.ps1 -Hostname $env:COMPUTERNAME -NetworkName cbr0                     # l2bridge
#   .\register-nssm.ps1 -Hostname $env:COMPUTERNAME -NetworkName vxlan0 -SourceVip 10.244.1.250  # overlay
param(
  [string]$Nssm = "C:\k\nssm.exe",
  [string]$KubeDir = "C:\k",
  [Parameter(Mandatory=$true)][string]$Hostname,
  [string]$NetworkName = "cbr0",
  [string]$SourceVip = "",
  [string]$ClusterCidr = "10.244.0.0/16",
  [string]$LogDir = "C:\k\logs",
  [int]$Verbosity = 4
)
$ErrorActionPreference = "Stop"
$proxy = Join-Path $KubeDir "kube-proxy.exe"
$args = @("--v=$Verbosity", "--proxy-mode=kernelspace", "--hostname-override=$Hostname",
          "--kubeconfig=$KubeDir\config", "--cluster-cidr=$ClusterCidr",
          "--log-dir=$LogDir", "--logtostderr=false", "--hns-listing-cache=$KubeDir\hns-listing-cache.jsonl")
if ($SourceVip) {
  $args += @("--feature-gates=`"WinOverlay=true`"", "--network-name=$NetworkName", "--source-vip=$SourceVip",
             "--enable-dsr=false")
}
& $Nssm install kube-proxy $proxy
& $Nssm set kube-proxy AppDirectory $KubeDir
& $Nssm set kube-proxy AppEnvironmentExtra "KUBE_NETWORK=$NetworkName"
& $Nssm set kube-proxy AppParameters ($args -join " ")
& $Nssm set kube-proxy DependOnService kubelet
& $Nssm set kube-proxy AppStdout "$LogDir\kube-proxy.out.log"
& $Nssm set kube-proxy AppStderr "$LogDir\kube-proxy.err.log"
& $Nssm set kube-proxy AppRotateFiles 1
& $Nssm set kube-proxy AppRotateOnline 1
& $Nssm set kube-proxy AppRotateBytes 10485760
# hnsproxy handles Ctrl+C (nssm's first stop method) and leaves programmed HNS state in place.
& $Nssm set kube-proxy AppStopMethodConsole 1500
& $Nssm start kube-proxy
