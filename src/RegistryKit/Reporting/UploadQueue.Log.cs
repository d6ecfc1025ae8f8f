using Microsoft.Extensions.Logging;

namespace RegistryKit.Reporting;

public sealed partial class UploadQueue<T>
{
    // Event ids 5300–5399 belong to the upload queue. They never change once released.
    private static partial class Log
    {
        [LoggerMessage(EventId = 5300, EventName = "UploadQueueFull", Level = LogLevel.Warning,
            Message = "The upload queue is full ({Capacity} items): the oldest items are dropped to make room. How many follows at each flush.")]
        public static partial void QueueFull(ILogger logger, int capacity);

        [LoggerMessage(EventId = 5301, EventName = "UploadItemsDropped", Level = LogLevel.Warning,
            Message = "{Count} of the oldest queued items were dropped since the last flush because the queue was full ({Total} in all).")]
        public static partial void Dropped(ILogger logger, long count, long total);

        [LoggerMessage(EventId = 5302, EventName = "UploadNoServer", Level = LogLevel.Warning,
            Message = "There is no server to upload to; {Pending} items stay queued for the next flush.")]
        public static partial void NoServer(ILogger logger, int pending);

        [LoggerMessage(EventId = 5303, EventName = "UploadFailed", Level = LogLevel.Warning,
            Message = "Uploading a batch of {Count} items failed; it stays queued and goes first in the next flush.")]
        public static partial void UploadFailed(ILogger logger, int count, Exception exception);

        [LoggerMessage(EventId = 5304, EventName = "UploadFinalFlushTimedOut", Level = LogLevel.Warning,
            Message = "The final flush did not finish within {Timeout}; the upload was cancelled.")]
        public static partial void FinalFlushTimedOut(ILogger logger, TimeSpan timeout);

        [LoggerMessage(EventId = 5305, EventName = "UploadDroppedAtDispose", Level = LogLevel.Error,
            Message = "{Count} items were still queued when the upload queue was disposed; they are dropped.")]
        public static partial void DroppedAtDispose(ILogger logger, int count);

        [LoggerMessage(EventId = 5306, EventName = "UploadEarlyFlushNotScheduled", Level = LogLevel.Warning,
            Message = "Could not schedule an early flush on the timer; the items wait for the next interval flush.")]
        public static partial void EarlyFlushNotScheduled(ILogger logger, Exception exception);
    }
}
