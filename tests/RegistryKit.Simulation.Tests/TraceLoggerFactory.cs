using Microsoft.Extensions.Logging;

namespace RegistryKit.Simulation.Tests;

/// <summary>Writes the registry clients' logs into a replay's trace file, stamped with virtual time.</summary>
internal sealed class TraceLoggerFactory(TextWriter writer, TimeProvider time, string prefix) : ILoggerFactory, ILogger
{
    private static readonly Lock s_lock = new();

    public ILogger CreateLogger(string categoryName) => this;

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (s_lock)
        {
            writer.WriteLine($"  # {(time.GetUtcNow() - Testing.ManualTimeProvider.DefaultStart).TotalSeconds:0.000} {prefix} {eventId.Id} {formatter(state, exception)}");
        }
    }

    public void Dispose()
    {
    }
}
