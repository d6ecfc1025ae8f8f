using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace RegistryKit.Etcd.Tests;

/// <summary>Keeps every log line (and echoes it to the test's progress output), so tests can read what was logged.</summary>
internal sealed class ProgressLoggerFactory : ILoggerFactory
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class Logger(ProgressLoggerFactory owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            string line = $"{logLevel} {eventId.Id} {formatter(state, exception)} {exception?.Message}";
            owner.Lines.Enqueue(line);
            TestContext.Progress.WriteLine(line);
        }
    }
}
