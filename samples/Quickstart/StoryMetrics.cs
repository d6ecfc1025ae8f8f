using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace RegistryKit.Samples.Quickstart;

/// <summary>
/// The story's own <see cref="IMeterFactory"/>, and a listener that totals what the <c>RegistryKit</c> meters made
/// through it count: the summary's figures are the library's metrics, not the sample's bookkeeping. Listening only to
/// meters of this factory keeps anything else in the process out of the totals.
/// </summary>
internal sealed class StoryMetrics : IMeterFactory
{
    private readonly ConcurrentBag<Meter> _meters = [];
    private readonly ConcurrentDictionary<string, long> _totals = new();
    private readonly MeterListener _listener = new();

    public StoryMetrics()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, this))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string key = instrument.Name;
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key is "registrykit.operation" or "registrykit.outcome")
                {
                    key += "|" + tag.Value;
                }
            }

            _totals.AddOrUpdate(key, value, (_, total) => total + value);
        });
        _listener.Start();
    }

    /// <summary>The total of a counter, optionally of one operation and outcome (<c>"register|failure"</c>).</summary>
    public long Total(string instrument, string? tags = null) =>
        _totals.GetValueOrDefault(tags is null ? instrument : instrument + "|" + tags);

    public Meter Create(MeterOptions options)
    {
        options.Scope = this;
        var meter = new Meter(options);
        _meters.Add(meter);
        return meter;
    }

    public void Dispose()
    {
        _listener.Dispose();
        foreach (Meter meter in _meters)
        {
            meter.Dispose();
        }
    }
}
