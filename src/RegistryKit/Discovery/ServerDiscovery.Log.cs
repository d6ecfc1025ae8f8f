using Microsoft.Extensions.Logging;
using RegistryKit.Internal;

namespace RegistryKit.Discovery;

/// <content>Log messages; event ids 5100–5199 never change.</content>
public sealed partial class ServerDiscovery
{
    [LoggerMessage(EventId = 5100, EventName = "DiscoveryServerChanged", Level = LogLevel.Information, Message = "Server for app '{AppName}' is now '{Current}' (was '{Previous}').")]
    private static partial void LogServerChanged(ILogger logger, string appName, RedactedAddress previous, RedactedAddress current);

    [LoggerMessage(EventId = 5101, EventName = "DiscoveryServerLost", Level = LogLevel.Warning, Message = "Lost server '{Server}': {FailedRounds} discovery rounds in a row found no confirmed server.")]
    private static partial void LogServerLost(ILogger logger, RedactedAddress server, int failedRounds);

    [LoggerMessage(EventId = 5102, EventName = "DiscoveryRoundFoundNoServer", Level = LogLevel.Warning, Message = "No server confirmed it is responsible for app '{AppName}' ({FailedRounds} rounds in a row).")]
    private static partial void LogRoundFoundNoServer(ILogger logger, string appName, int failedRounds);

    [LoggerMessage(EventId = 5103, EventName = "DiscoveryAppNotRegistered", Level = LogLevel.Error, Message = "Server '{Server}' says app '{AppName}' is not registered ({Reason}); discovery stops.")]
    private static partial void LogAppNotRegistered(ILogger logger, string appName, RedactedAddress server, string? reason);

    [LoggerMessage(EventId = 5104, EventName = "DiscoveryLazyStart", Level = LogLevel.Warning, Message = "None of the {Servers} servers could assert app '{AppName}'; starting anyway (lazy start) and trying again in the background.")]
    private static partial void LogLazyStart(ILogger logger, string appName, int servers);

    [LoggerMessage(EventId = 5105, EventName = "DiscoveryAppAssertedLate", Level = LogLevel.Information, Message = "App '{AppName}' asserted as '{AppId}' after a lazy start.")]
    private static partial void LogAppAssertedLate(ILogger logger, string appName, QuotedText appId);

    [LoggerMessage(EventId = 5106, EventName = "DiscoveryAssertTryFailed", Level = LogLevel.Debug, Message = "App assertion try {Attempt} failed; trying again.")]
    private static partial void LogAssertTryFailed(ILogger logger, int attempt, Exception? exception);

    [LoggerMessage(EventId = 5107, EventName = "DiscoveryAssertFailed", Level = LogLevel.Warning, Message = "Server '{Server}' did not answer the app assertion in {Attempts} tries.")]
    private static partial void LogAssertFailed(ILogger logger, RedactedAddress server, int attempts, Exception exception);

    [LoggerMessage(EventId = 5108, EventName = "DiscoveryAcquireFailed", Level = LogLevel.Warning, Message = "Server '{Server}' did not say which server is responsible.")]
    private static partial void LogAcquireFailed(ILogger logger, RedactedAddress server, Exception exception);

    [LoggerMessage(EventId = 5109, EventName = "DiscoveryMalformedAnswer", Level = LogLevel.Warning, Message = "Server '{Server}' answered with {What}; treated as a failed call.")]
    private static partial void LogMalformedAnswer(ILogger logger, RedactedAddress server, string what);

    [LoggerMessage(EventId = 5110, EventName = "DiscoveryReferred", Level = LogLevel.Debug, Message = "Server '{Server}' names '{Named}' as responsible; asking it to confirm.")]
    private static partial void LogReferred(ILogger logger, RedactedAddress server, RedactedAddress named);

    [LoggerMessage(EventId = 5111, EventName = "DiscoveryNotConfirmed", Level = LogLevel.Warning, Message = "Server '{Named}', named by '{Server}', did not confirm it is responsible; not adopted.")]
    private static partial void LogNotConfirmed(ILogger logger, RedactedAddress named, RedactedAddress server);

    [LoggerMessage(EventId = 5112, EventName = "DiscoveryRoundFailed", Level = LogLevel.Error, Message = "A discovery round failed unexpectedly; the next round runs on schedule.")]
    private static partial void LogRoundFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 5114, EventName = "DiscoveryUnlistedServer", Level = LogLevel.Warning, Message = "Following '{Server}', which confirmed it is responsible but is not among the configured servers.")]
    private static partial void LogUnlistedServer(ILogger logger, RedactedAddress server);

    [LoggerMessage(EventId = 5113, EventName = "DiscoveryListenerFailed", Level = LogLevel.Error, Message = "The server discovery listener threw; discovery carries on.")]
    private static partial void LogListenerFailed(ILogger logger, Exception exception);
}
