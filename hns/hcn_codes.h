// HCN's numbers, in one place: the flag bits, enum values and HRESULTs of the HNS v2 API
// (from hcsshim hcn/*.go, hcnerrors.go and computenetwork.h). The translation (hns/translate.h), the simulator and the
// VFP model all read them from here; policy/ never sees them.
#pragma once

#include <cstdint>

namespace hnsproxy::hns::hcn {

// HostComputeLoadBalancer.Flags (LoadBalancerFlags). IPv6 is kube-proxy's own constant (hcsshim
// does not define it).
inline constexpr std::uint32_t kLbFlagDsr = 1;
inline constexpr std::uint32_t kLbFlagIPv6 = 2;
inline constexpr std::uint32_t kLbFlagsKnown = kLbFlagDsr | kLbFlagIPv6;

// LoadBalancerPortMapping.Flags (LoadBalancerPortMappingFlags). VipExternalIP (16) is kube-proxy's.
inline constexpr std::uint32_t kPortFlagIlb = 1;
inline constexpr std::uint32_t kPortFlagLocalRoutedVip = 2;
inline constexpr std::uint32_t kPortFlagUseMux = 4;
inline constexpr std::uint32_t kPortFlagPreserveDip = 8;
inline constexpr std::uint32_t kPortFlagVipExternalIp = 16;

// LoadBalancerPortMapping.DistributionType.
inline constexpr std::uint32_t kDistributionNone = 0;
inline constexpr std::uint32_t kDistributionSourceIpProtocol = 1;
inline constexpr std::uint32_t kDistributionSourceIp = 2;

// LoadBalancerPortMapping.Protocol: IANA numbers, as upstream's Enum() maps Kubernetes protocols.
inline constexpr std::uint32_t kProtocolTcp = 6;
inline constexpr std::uint32_t kProtocolUdp = 17;
inline constexpr std::uint32_t kProtocolSctp = 132;

// HostComputeEndpoint.Flags.
inline constexpr std::uint32_t kEndpointFlagRemote = 1;

// HRESULTs (winerror.h; hcsshim hcn/hcnerrors.go).
inline constexpr std::uint32_t kErrorNotFound = 0x80070490;        // ERROR_NOT_FOUND
inline constexpr std::uint32_t kErrorAlreadyExists = 0x800700B7;   // ERROR_ALREADY_EXISTS
inline constexpr std::uint32_t kEInvalidArg = 0x80070057;          // E_INVALIDARG
inline constexpr std::uint32_t kENotImpl = 0x80004001;             // E_NOTIMPL
inline constexpr std::uint32_t kEFail = 0x80004005;                // E_FAIL
inline constexpr std::uint32_t kHcnNetworkNotFound = 0x803B0001;
inline constexpr std::uint32_t kHcnEndpointNotFound = 0x803B0002;
inline constexpr std::uint32_t kHcnNetworkAlreadyExists = 0x803B0010;
inline constexpr std::uint32_t kHcnPortAlreadyExists = 0x803B0013;
inline constexpr std::uint32_t kHcnInvalidJson = 0x803B001B;
inline constexpr std::uint32_t kHcnInvalidJsonReference = 0x803B001C;
inline constexpr std::uint32_t kHcnInvalidIp = 0x803B001E;
inline constexpr std::uint32_t kHcnManagerStopped = 0x803B0020;
inline constexpr std::uint32_t kHcnEntityHasReferences = 0x803B002C;
inline constexpr std::uint32_t kHcnInvalidInternalPort = 0x803B002D;
inline constexpr std::uint32_t kHcnAddrInvalidOrReserved = 0x803B002F;
inline constexpr std::uint32_t kRpcServerUnavailable = 0x800706BA;  // RPC_S_SERVER_UNAVAILABLE
inline constexpr std::uint32_t kRpcCallFailed = 0x800706BE;         // RPC_S_CALL_FAILED
inline constexpr std::uint32_t kErrorTimeout = 0x800705B4;          // ERROR_TIMEOUT

// HCN_NOTIFICATIONS (HcnRegisterServiceCallback), computenetwork.h.
inline constexpr std::uint32_t kNotificationNetworkCreate = 0x2;
inline constexpr std::uint32_t kNotificationNetworkDelete = 0x4;
inline constexpr std::uint32_t kNotificationServiceDisconnect = 0x01000000;

}  // namespace hnsproxy::hns::hcn
