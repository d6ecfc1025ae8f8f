using Microsoft.Extensions.Logging;

namespace RegistryKit.Etcd;

internal sealed partial class EtcdClient
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 7000, EventName = "EtcdEndpointFailed", Level = LogLevel.Warning,
            Message = "The etcd endpoint '{Endpoint}' did not answer '{Method}': {Reason} Trying the next endpoint, if any.")]
        public static partial void EndpointFailed(ILogger logger, string method, Uri endpoint, string reason);

        [LoggerMessage(EventId = 7001, EventName = "EtcdAuthenticated", Level = LogLevel.Debug, Message = "Authenticated with etcd as '{User}'.")]
        public static partial void Authenticated(ILogger logger, string user);

        [LoggerMessage(EventId = 7002, EventName = "EtcdAuthenticationNotEnabled", Level = LogLevel.Warning,
            Message = "The address names the etcd user '{User}' but the cluster has authentication off; calls go without a token.")]
        public static partial void AuthenticationNotEnabled(ILogger logger, string user);
    }
}
