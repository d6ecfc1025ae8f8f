using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using RegistryKit.Transport;

namespace RegistryKit.Samples.CustomTransport.Transport;

/// <summary>
/// One watch: reads the master's NDJSON stream and hands each snapshot to the engine's watcher, in revision order.
/// </summary>
/// <remarks>
/// A line that does not parse is skipped and counted, as is a snapshot whose revision is not newer than the last one.
/// A line longer than <see cref="MasterRegistryTransport.MaxAnswerBytes"/>, the end of the stream (the master restarted
/// or stopped) or a broken connection ends the watch with <see cref="ITransportWatcher.OnLost"/>, and the engine
/// subscribes again. After <see cref="DisposeAsync"/> returns the watcher hears nothing more.
/// </remarks>
internal sealed partial class MasterWatch : IAsyncDisposable
{
    private readonly MasterRegistryTransport _transport;
    private readonly HttpResponseMessage _response;
    private readonly ITransportWatcher _watcher;
    private readonly CancellationTokenSource _stop;
    private Task _reading = Task.CompletedTask;
    private long _lastRevision = -1;

    public MasterWatch(MasterRegistryTransport transport, HttpResponseMessage response, ITransportWatcher watcher, CancellationToken transportDisposing)
    {
        _transport = transport;
        _response = response;
        _watcher = watcher;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(transportDisposing);
    }

    public void Start() => _reading = Task.Run(ReadAsync);

    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested && _reading.IsCompleted)
        {
            return;
        }

        await _stop.CancelAsync();
        _response.Dispose();
        await _reading;
        _transport.Forget(this);
        _stop.Dispose();
    }

    private async Task ReadAsync()
    {
        Exception? lost = null;
        try
        {
            Stream stream = await _response.Content.ReadAsStreamAsync(_stop.Token);
            PipeReader reader = PipeReader.Create(stream);
            while (true)
            {
                ReadResult read = await reader.ReadAsync(_stop.Token);
                ReadOnlySequence<byte> buffer = read.Buffer;
                while (TryReadLine(ref buffer, out ReadOnlySequence<byte> line))
                {
                    Deliver(line);
                }

                if (buffer.Length > MasterRegistryTransport.MaxAnswerBytes)
                {
                    throw new RegistryTransportException($"The master sent a watch line longer than {MasterRegistryTransport.MaxAnswerBytes} bytes; the watch is dropped.");
                }

                reader.AdvanceTo(buffer.Start, buffer.End);
                if (read.IsCompleted)
                {
                    throw new RegistryTransportException("The master ended the watch (it restarted or is stopping).");
                }
            }
        }
        catch (Exception failure) when (_stop.IsCancellationRequested)
        {
            // Disposed: the failure is the disposal itself, and nobody is told.
            _ = failure;
        }
        catch (Exception failure) when (failure is RegistryTransportException or HttpRequestException or IOException or OperationCanceledException)
        {
            lost = failure as RegistryTransportException ?? new RegistryTransportException($"The watch stream broke: {failure.Message}", failure);
        }

        if (lost is not null && !_stop.IsCancellationRequested)
        {
            LogWatchLost(_transport.Logger, lost.Message);
            Call(() => _watcher.OnLost(lost));
        }
    }

    private static bool TryReadLine(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> line)
    {
        SequencePosition? end = buffer.PositionOf((byte)'\n');
        if (end is null)
        {
            line = default;
            return false;
        }

        line = buffer.Slice(0, end.Value);
        buffer = buffer.Slice(buffer.GetPosition(1, end.Value));
        return true;
    }

    private void Deliver(ReadOnlySequence<byte> line)
    {
        TransportSnapshot? snapshot = null;
        try
        {
            var json = new Utf8JsonReader(line);
            using JsonDocument document = JsonDocument.ParseValue(ref json);
            snapshot = _transport.ReadSnapshot(document.RootElement);
        }
        catch (JsonException)
        {
            // Handled below, as every malformed line.
        }

        if (snapshot is null || snapshot.Revision <= _lastRevision)
        {
            _transport.CountMalformed(1);
            LogLineSkipped(_transport.Logger, snapshot is null ? "it is not a snapshot" : $"its revision {snapshot.Revision} is not newer than {_lastRevision}");
            return;
        }

        _lastRevision = snapshot.Revision;
        if (!_stop.IsCancellationRequested)
        {
            Call(() => _watcher.OnSnapshot(snapshot));
        }
    }

    private void Call(Action callback)
    {
        try
        {
            callback();
        }
        catch (Exception failure)
        {
            // The engine's watcher does not throw; one that does must not end the stream.
            LogWatcherThrew(_transport.Logger, failure);
        }
    }

    [LoggerMessage(EventId = 8101, Level = LogLevel.Warning, Message = "Skipped a line of the master's watch stream: {Reason}.")]
    private static partial void LogLineSkipped(ILogger logger, string reason);

    [LoggerMessage(EventId = 8102, Level = LogLevel.Information, Message = "The master's watch stream ended: {Reason} The registry client subscribes again.")]
    private static partial void LogWatchLost(ILogger logger, string reason);

    [LoggerMessage(EventId = 8103, Level = LogLevel.Error, Message = "The watcher threw; the watch goes on.")]
    private static partial void LogWatcherThrew(ILogger logger, Exception exception);
}
