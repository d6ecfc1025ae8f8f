using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace RegistryKit.Tests.Support;

/// <summary>A logger provider for a real host: keeps every entry of every category, with its structured values.</summary>
internal sealed class CollectingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<HostLogEntry> _entries = new();

    public IReadOnlyList<HostLogEntry> Entries => [.. _entries];

    public ILogger CreateLogger(string categoryName) => new Logger(_entries, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(ConcurrentQueue<HostLogEntry> entries, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            // What a structured sink would write: the message, each value as text, and the exception with its inner ones.
            IEnumerable<string> values = state is IEnumerable<KeyValuePair<string, object?>> pairs
                ? pairs.Select(p => $"{p.Key}={p.Value}")
                : [];
            entries.Enqueue(new HostLogEntry(category, logLevel, eventId, formatter(state, exception), [.. values], exception?.ToString()));
        }
    }
}

internal sealed record HostLogEntry(string Category, LogLevel Level, EventId EventId, string Message, IReadOnlyList<string> Values, string? Exception);
