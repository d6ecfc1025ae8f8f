using System.Text;
using RegistryKit.Transport;

namespace RegistryKit.Etcd;

/// <summary>
/// Reads UTF-8 lines from a stream like <see cref="StreamReader.ReadLineAsync(CancellationToken)"/>, but refuses a line
/// longer than a limit instead of buffering it whole: a watch stream is untrusted input.
/// </summary>
internal sealed class BoundedLineReader(Stream stream, int maxChars) : IDisposable
{
    private readonly StreamReader _reader = new(stream, Encoding.UTF8);
    private readonly char[] _buffer = new char[8192];
    private readonly StringBuilder _line = new();
    private int _start;
    private int _end;

    /// <summary>Returns the next line without its line break, or <see langword="null"/> at the end of the stream.</summary>
    /// <exception cref="RegistryTransportException">The line is longer than the limit (not transient).</exception>
    public async ValueTask<string?> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_start == _end)
            {
                _start = 0;
                _end = await _reader.ReadAsync(_buffer.AsMemory(), cancellationToken).ConfigureAwait(false);
                if (_end == 0)
                {
                    return _line.Length == 0 ? null : Take();
                }
            }

            int newline = Array.IndexOf(_buffer, '\n', _start, _end - _start);
            int stop = newline < 0 ? _end : newline;
            if (_line.Length + (stop - _start) > maxChars)
            {
                _line.Clear();
                throw new RegistryTransportException(
                    $"The etcd watch stream sent a line longer than {maxChars} characters; it is not read further.",
                    isTransient: false);
            }

            _line.Append(_buffer, _start, stop - _start);
            _start = newline < 0 ? _end : newline + 1;
            if (newline >= 0)
            {
                return Take();
            }
        }
    }

    public void Dispose() => _reader.Dispose();

    private string Take()
    {
        int length = _line.Length > 0 && _line[^1] == '\r' ? _line.Length - 1 : _line.Length;
        string line = _line.ToString(0, length);
        _line.Clear();
        return line;
    }
}
