using Microsoft.Extensions.Logging;
using RegistryKit.Internal;

namespace RegistryKit.Masters;

/// <content>Log messages; event ids 5000–5099 never change.</content>
public sealed partial class MultiMasterRegistration
{
    [LoggerMessage(EventId = 5000, EventName = "WorkerRegistered", Level = LogLevel.Information, Message = "Registered with the active master '{Master}'.")]
    private static partial void LogRegistered(ILogger logger, RedactedAddress master);

    [LoggerMessage(EventId = 5001, EventName = "WorkerRegisteredDuplicate", Level = LogLevel.Warning, Message = "'{Master}' already knew worker '{WorkerId}' (a retry after a blip); carrying on as registered.")]
    private static partial void LogDuplicate(ILogger logger, RedactedAddress master, string workerId);

    [LoggerMessage(EventId = 5002, EventName = "WorkerRefused", Level = LogLevel.Error, Message = "'{Master}' refused the worker before it ever registered; registration stops.")]
    private static partial void LogRefused(ILogger logger, RedactedAddress master);

    [LoggerMessage(EventId = 5003, EventName = "WorkerRefusalIgnored", Level = LogLevel.Information, Message = "Ignored a refusal from '{Master}': the worker has registered before.")]
    private static partial void LogRefusalIgnored(ILogger logger, RedactedAddress master);

    [LoggerMessage(EventId = 5004, EventName = "MasterStandbyIgnored", Level = LogLevel.Debug, Message = "'{Master}' is a standby; ignored.")]
    private static partial void LogStandbyIgnored(ILogger logger, RedactedAddress master);

    [LoggerMessage(EventId = 5005, EventName = "WorkerRegisterCallFailed", Level = LogLevel.Warning, Message = "Could not register with '{Master}'.")]
    private static partial void LogRegisterCallFailed(ILogger logger, RedactedAddress master, Exception exception);

    [LoggerMessage(EventId = 5006, EventName = "WorkerExtraRegistrationIgnored", Level = LogLevel.Information, Message = "'{Master}' also accepted the worker; '{Active}' is the active master already.")]
    private static partial void LogExtraRegistrationIgnored(ILogger logger, RedactedAddress master, RedactedAddress active);

    [LoggerMessage(EventId = 5007, EventName = "WorkerGaveUp", Level = LogLevel.Error, Message = "All masters are unresponsive after {Attempts} retries; giving up (the host decides what happens next).")]
    private static partial void LogGaveUp(ILogger logger, int attempts);

    [LoggerMessage(EventId = 5008, EventName = "WorkerHeartbeatFailed", Level = LogLevel.Warning, Message = "Heartbeat to '{Master}' failed ({Failures} in a row).")]
    private static partial void LogHeartbeatFailed(ILogger logger, RedactedAddress master, int failures, Exception exception);

    [LoggerMessage(EventId = 5009, EventName = "WorkerReregistering", Level = LogLevel.Warning, Message = "Registering again, '{Master}' first: {Reason}.")]
    private static partial void LogReregistering(ILogger logger, RedactedAddress master, string reason);

    [LoggerMessage(EventId = 5010, EventName = "WorkerStateReportFailed", Level = LogLevel.Error, Message = "The state report to '{Master}' after registering failed; the registration stands.")]
    private static partial void LogStateReportFailed(ILogger logger, RedactedAddress master, Exception exception);

    [LoggerMessage(EventId = 5011, EventName = "WorkerRegisterCallTimedOut", Level = LogLevel.Warning, Message = "'{Master}' did not answer the registration within {Timeout}; cancelled.")]
    private static partial void LogRegisterCallTimedOut(ILogger logger, RedactedAddress master, TimeSpan timeout);

    [LoggerMessage(EventId = 5012, EventName = "WorkerStaleAnswerIgnored", Level = LogLevel.Information, Message = "Ignored an answer from '{Master}' to an earlier registration effort.")]
    private static partial void LogStaleAnswerIgnored(ILogger logger, RedactedAddress master);

    [LoggerMessage(EventId = 5013, EventName = "WorkerHeartbeatTimedOut", Level = LogLevel.Warning, Message = "Heartbeat to '{Master}' got no answer within {Timeout} ({Failures} failed in a row).")]
    private static partial void LogHeartbeatTimedOut(ILogger logger, RedactedAddress master, TimeSpan timeout, int failures);

    [LoggerMessage(EventId = 5014, EventName = "WorkerUnconfiguredMaster", Level = LogLevel.Warning, Message = "'{Master}' announced itself as the active master but is not among the configured masters; following it.")]
    private static partial void LogUnconfiguredMaster(ILogger logger, RedactedAddress master);

    [LoggerMessage(EventId = 5015, EventName = "WorkerListenerFailed", Level = LogLevel.Error, Message = "The multi-master listener threw; the registration carries on.")]
    private static partial void LogListenerFailed(ILogger logger, Exception exception);
}
