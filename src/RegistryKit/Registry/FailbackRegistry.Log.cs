using Microsoft.Extensions.Logging;

namespace RegistryKit.Registry;

internal sealed partial class FailbackRegistry
{
    // Event ids 2000–2099 belong to the registry engine. They never change once released. URLs are logged through
    // ServiceUrl.ToString(), which hides credentials.
    internal static partial class Log
    {
        [LoggerMessage(EventId = 2000, EventName = "Registered", Level = LogLevel.Debug, Message = "Registered '{Url}'.")]
        public static partial void Registered(ILogger logger, ServiceUrl url);

        [LoggerMessage(EventId = 2001, EventName = "Unregistered", Level = LogLevel.Debug, Message = "Unregistered '{Url}'.")]
        public static partial void Unregistered(ILogger logger, ServiceUrl url);

        [LoggerMessage(EventId = 2002, EventName = "OperationFailedWillRetry", Level = LogLevel.Warning,
            Message = "Could not {Operation} '{Url}'; retrying in the background.")]
        public static partial void OperationFailedWillRetry(ILogger logger, string operation, ServiceUrl url, Exception exception);

        [LoggerMessage(EventId = 2003, EventName = "RetrySucceeded", Level = LogLevel.Information,
            Message = "Retry {Attempt} of {Operation} '{Url}' succeeded.")]
        public static partial void RetrySucceeded(ILogger logger, RetryKind operation, ServiceUrl url, int attempt);

        [LoggerMessage(EventId = 2004, EventName = "RetriesExhausted", Level = LogLevel.Error,
            Message = "Gave up retrying {Operation} of '{Url}' after {MaxRetries} retries, as RegistryOptions.MaxRetries says.")]
        public static partial void RetriesExhausted(ILogger logger, RetryKind operation, ServiceUrl url, int maxRetries);

        [LoggerMessage(EventId = 2005, EventName = "SessionOpened", Level = LogLevel.Information,
            Message = "Opened registry session '{SessionId}' with a TTL of {Ttl}.")]
        public static partial void SessionOpened(ILogger logger, string sessionId, TimeSpan ttl);

        [LoggerMessage(EventId = 2006, EventName = "SessionLost", Level = LogLevel.Warning,
            Message = "Registry session '{SessionId}' was lost; opening a new one and registering everything again.")]
        public static partial void SessionLost(ILogger logger, string sessionId);

        [LoggerMessage(EventId = 2007, EventName = "HeartbeatFailed", Level = LogLevel.Warning,
            Message = "Heartbeat of session '{SessionId}' failed ({Failures} in a row).")]
        public static partial void HeartbeatFailed(ILogger logger, string sessionId, int failures, Exception exception);

        [LoggerMessage(EventId = 2008, EventName = "WatchLost", Level = LogLevel.Warning,
            Message = "The watch of '{Url}' ended; subscribing again.")]
        public static partial void WatchLost(ILogger logger, ServiceUrl url, Exception exception);

        [LoggerMessage(EventId = 2009, EventName = "MalformedEntrySkipped", Level = LogLevel.Warning,
            Message = "Skipped {Count} of the {Total} entries of a registry snapshot: they are not valid URLs.")]
        public static partial void MalformedEntrySkipped(ILogger logger, int count, int total);

        [LoggerMessage(EventId = 2010, EventName = "ListenerFailed", Level = LogLevel.Error,
            Message = "A notify listener threw; delivery goes on.")]
        public static partial void ListenerFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 2011, EventName = "EmptyProtected", Level = LogLevel.Warning,
            Message = "The providers of '{Url}' became empty; empty protection keeps the last list.")]
        public static partial void EmptyProtected(ILogger logger, ServiceUrl url);

        [LoggerMessage(EventId = 2012, EventName = "ShutdownStepFailed", Level = LogLevel.Warning,
            Message = "During shutdown, could not {Operation} '{Url}'.")]
        public static partial void ShutdownStepFailed(ILogger logger, string operation, ServiceUrl url, Exception exception);

        [LoggerMessage(EventId = 2014, EventName = "RetryFailed", Level = LogLevel.Warning,
            Message = "Retry {Attempt} of {Operation} '{Url}' failed; trying again later.")]
        public static partial void RetryFailed(ILogger logger, RetryKind operation, ServiceUrl url, int attempt, Exception exception);

        [LoggerMessage(EventId = 2015, EventName = "ServedFromCache", Level = LogLevel.Warning,
            Message = "Serving '{Url}' {Count} URLs from the disk cache until the registry answers.")]
        public static partial void ServedFromCache(ILogger logger, ServiceUrl url, int count);

        [LoggerMessage(EventId = 2016, EventName = "ListenerStopTimedOut", Level = LogLevel.Warning,
            Message = "A notify listener did not return within {Timeout} of being stopped; it is no longer waited for.")]
        public static partial void ListenerStopTimedOut(ILogger logger, TimeSpan timeout);

        [LoggerMessage(EventId = 2017, EventName = "AllEntriesMalformed", Level = LogLevel.Warning,
            Message = "Ignored a notification for '{Url}' whose {Count} entries are all malformed; the last good view stays.")]
        public static partial void AllEntriesMalformed(ILogger logger, ServiceUrl url, int count);

        [LoggerMessage(EventId = 2013, EventName = "Disposed", Level = LogLevel.Information, Message = "Registry '{Url}' disposed.")]
        public static partial void Disposed(ILogger logger, ServiceUrl url);
    }
}
