# HostProcess entry point, with the contract of sig-windows-tools' hostprocess kube-proxy start.ps1
# (kubernetes-sigs/sig-windows-tools, hostprocess/calico/kube-proxy/start.ps1): wait for the HNS network, parse `kube-proxy.exe --version` with
# v(\d)\.(\d+), rewrite the kubeconfig's paths into the sandbox, add DSR and (on overlay) the source
# VIP, and run kube-proxy in the foreground. Unlike upstream's script it does not run
# "Get-HnsPolicyList | Remove-HnsPolicyList": hnsproxy adopts what HNS holds, so a restart keeps
# traffic flowing.
$ErrorActionPreference = "Stop"
$sandbox = $env:CONTAINER_SANDBOX_MOUNT_POINT
$proxy = if ($env:KUBEPROXY_PATH) { $env:KUBEPROXY_PATH } else { "$sandbox/kube-proxy/kube-proxy.exe" }
$network = if ($env:KUBE_NETWORK) { $env:KUBE_NETWORK } else { "Calico" }
$env:KUBE_NETWORK = $network
$node = if ($env:NODENAME) { $env:NODENAME } elseif ($env:NODE_NAME) { $env:NODE_NAME } else { "" }

while (-not (Get-HnsNetwork | Where-Object Name -eq $network)) { Write-Host "waiting for HNS network $network"; Start-Sleep 5 }

$version = & $proxy --version
if ($version -notmatch 'v([0-9])\.([0-9]+)') { throw "cannot parse the version of ${proxy}: $version" }
$major = [int]$Matches[1]; $minor = [int]$Matches[2]
Write-Host "kube-proxy $version (major $major, minor $minor)"

# The ConfigMap's kubeconfig names in-container paths; point them into the sandbox.
$kubeconfig = "$sandbox/var/lib/kube-proxy/kubeconfig-win.conf"
(Get-Content "$sandbox/var/lib/kube-proxy/kubeconfig.conf").Replace('/var', "$sandbox/var") | Set-Content $kubeconfig

$args = @("--hostname-override=$node", "--v=4", "--proxy-mode=kernelspace", "--kubeconfig=$kubeconfig")
$gates = @()
if ($major -gt 1 -or $minor -ge 14) { $args += "--enable-dsr=true"; $gates += "WinDSR=true" }
$net = Get-HnsNetwork | Where-Object Name -eq $network
if ($net.Type -eq "Overlay") {
  $ep = $null
  while (-not $ep) { $ep = Get-HnsEndpoint | Where-Object Name -eq "${network}_ep"; if (-not $ep) { Start-Sleep 1 } }
  $args += "--source-vip=$($ep.IpAddress)"
  $gates += "WinOverlay=true"
}
if ($gates.Count -gt 0) { $args += "--feature-gates=$($gates -join ',')" }
# Fast restarts: the listing cache on the host (the sandbox is not kept across container restarts),
# in a folder only Administrators and SYSTEM may write.
$stateDir = "$env:SystemDrive\var\lib\kube-proxy"
if (-not (Test-Path $stateDir)) {
  New-Item -ItemType Directory -Force -Path $stateDir | Out-Null
  icacls $stateDir /inheritance:r /grant:r "*S-1-5-18:(OI)(CI)F" "*S-1-5-32-544:(OI)(CI)F" | Out-Null
}
$args += "--hns-listing-cache=$stateDir\hns-listing-cache.jsonl"
& $proxy @args
exit $LASTEXITCODE
