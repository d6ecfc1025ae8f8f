using Microsoft.Extensions.Logging;

namespace RegistryKit.Etcd;

internal sealed partial class EtcdRegistryTransport
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 7020, EventName = "EtcdSessionOpened", Level = LogLevel.Debug, Message = "Granted the etcd lease {Lease} with a TTL of {Ttl}.")]
        public static partial void SessionOpened(ILogger logger, long lease, TimeSpan ttl);

        [LoggerMessage(EventId = 7021, EventName = "EtcdRevokeOnDisposeFailed", Level = LogLevel.Information,
            Message = "Could not revoke the etcd lease {Lease} while disposing ({Reason}); its keys go when its TTL runs out.")]
        public static partial void RevokeOnDisposeFailed(ILogger logger, long lease, string reason);
    }
}
