# HostProcess entry point (the shape of sig-windows-tools' calico start.ps1, without the
# "Remove-HnsPolicyList" step: hnsproxy adopts what HNS holds instead of needing a wiped node).
$ErrorActionPreference = "Stop"
$sandbox = $env:CONTAINER_SANDBOX_MOUNT_POINT
$network = if ($env:KUBE_NETWORK) { $env:KUBE_NETWORK } else { "Calico" }
while (-not (Get-HnsNetwork | Where-Object Name -eq $network)) { Write-Host "waiting for HNS network $network"; Start-Sleep 5 }
$args = @("--hostname-override=$env:NODENAME", "--v=4", "--proxy-mode=kernelspace",
          "--kubeconfig=$sandbox/var/lib/kube-proxy/kubeconfig-win.conf", "--enable-dsr=true")
$gates = @("WinDSR=true")
$net = Get-HnsNetwork | Where-Object Name -eq $network
if ($net.Type -eq "Overlay") {
  $ep = $null
  while (-not $ep) { $ep = Get-HnsEndpoint | Where-Object Name -eq "${network}_ep"; Start-Sleep 1 }
  $args += "--source-vip=$($ep.IpAddress)"
  $gates += "WinOverlay=true"
}
$args += "--feature-gates=$($gates -join ',')"
& "$sandbox/kube-proxy.exe" @args
