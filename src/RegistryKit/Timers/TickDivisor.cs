using System.Numerics;

namespace RegistryKit.Timers;

/// <summary>
/// Divides by the wheel's tick with a multiplication: a 64-bit <c>idiv</c> takes 40–90 cycles on the x64 server cores
/// this library is measured on, and every schedule divides once. The multiplier is Granlund and Montgomery's for
/// numerators below 2^63 ("Division by invariant integers using multiplication", 1994, theorem 4.2), so the quotient
/// is exact, not an estimate.
/// </summary>
internal readonly struct TickDivisor
{
    private readonly long _divisor;
    private readonly ulong _multiplier;
    private readonly int _shift;

    /// <param name="divisor">The tick in TimeSpan ticks; at least 2.</param>
    public TickDivisor(long divisor)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(divisor, 2);
        _divisor = divisor;

        // l is the smallest with divisor <= 2^l; the multiplier ceil(2^(63 + l) / divisor) then lies below 2^64, and
        // multiplier * divisor - 2^(63 + l) < divisor <= 2^l, the condition for an exact floor over 63-bit numerators.
        int l = 64 - BitOperations.LeadingZeroCount((ulong)(divisor - 1));
        UInt128 power = UInt128.One << (63 + l);
        UInt128 quotient = power / (ulong)divisor;
        if (quotient * (ulong)divisor != power)
        {
            quotient++;
        }

        _multiplier = (ulong)quotient;

        // The product's high 64 bits are (n * m) >> 64; the quotient is (n * m) >> (63 + l).
        _shift = l - 1;
    }

    /// <summary>Returns <paramref name="value"/> / the divisor, rounded toward zero, as the <c>/</c> operator does.</summary>
    public long Divide(long value) =>
        value >= 0 ? (long)(Math.BigMul((ulong)value, _multiplier, out _) >> _shift) : value / _divisor;
}
