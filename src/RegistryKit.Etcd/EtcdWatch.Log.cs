using Microsoft.Extensions.Logging;

namespace RegistryKit.Etcd;

internal sealed partial class EtcdWatch
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 7010, EventName = "EtcdWatchDropped", Level = LogLevel.Information,
            Message = "The etcd watch of '{Prefix}' dropped ({Reason}); it resumes from revision {Revision} in {Delay}.")]
        public static partial void WatchDropped(ILogger logger, string prefix, long revision, TimeSpan delay, string reason);

        [LoggerMessage(EventId = 7011, EventName = "EtcdWatchCompacted", Level = LogLevel.Information,
            Message = "etcd compacted revision {Revision} the watch of '{Prefix}' needed (compacted up to {CompactRevision}); listing again.")]
        public static partial void WatchCompacted(ILogger logger, string prefix, long revision, long compactRevision);

        [LoggerMessage(EventId = 7012, EventName = "EtcdWatchLost", Level = LogLevel.Warning,
            Message = "The etcd watch of '{Prefix}' is lost: {Reason}")]
        public static partial void WatchLost(ILogger logger, string prefix, string reason);

        [LoggerMessage(EventId = 7013, EventName = "EtcdWatcherFailed", Level = LogLevel.Error,
            Message = "The watcher of '{Prefix}' threw; the watch stops.")]
        public static partial void WatcherFailed(ILogger logger, string prefix, Exception exception);
    }
}
