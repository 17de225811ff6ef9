# Reads an 8-bit RGB or RGBA PNG (what headless Chromium writes for a
# screenshot) with core Perl only, for tests that must tell a rendered page
# from a blank one: width, height, and how many pixels are dark (text,
# borders) or tinted (neither near-white nor grey: coloured backgrounds).
package PngStats;

use strict;
use warnings;
use Compress::Zlib qw(uncompress);

# stats(path) -> { width, height, dark, tinted }; dies on anything else.
sub stats
{
	my ($path) = @_;
	open(my $fh, '<:raw', $path) or die "could not open $path: $!";
	my $data = do { local $/; <$fh> };
	close($fh);
	die "$path is not a PNG file" unless substr($data, 0, 8) eq "\x89PNG\r\n\x1a\n";

	my ($pos, $width, $height, $depth, $ctype, $interlace, $idat) = (8, 0, 0, 0, 0, 0, '');
	while ($pos + 8 <= length($data))
	{
		my ($len, $type) = unpack('N a4', substr($data, $pos, 8));
		my $body = substr($data, $pos + 8, $len);
		($width, $height, $depth, $ctype, undef, undef, $interlace) = unpack('N N C C C C C', $body)
		  if $type eq 'IHDR';
		$idat .= $body if $type eq 'IDAT';
		last if $type eq 'IEND';
		$pos += 12 + $len;
	}
	die "$path: only 8-bit RGB or RGBA, not interlaced"
	  unless $depth == 8 && ($ctype == 2 || $ctype == 6) && !$interlace;
	my $raw = uncompress($idat);
	die "$path: corrupt image data" unless defined $raw;
	my $bpp = $ctype == 6 ? 4 : 3;
	my $stride = $width * $bpp;
	die "$path: truncated image data" if length($raw) < $height * ($stride + 1);

	# Undo each scanline's filter (PNG specification, section 9).
	my @prev = (0) x $stride;
	my ($dark, $tinted) = (0, 0);
	for my $y (0 .. $height - 1)
	{
		my $off = $y * ($stride + 1);
		my $filter = ord(substr($raw, $off, 1));
		my @cur = unpack('C*', substr($raw, $off + 1, $stride));
		if ($filter == 1)
		{
			$cur[$_] = ($cur[$_] + $cur[ $_ - $bpp ]) & 255 for $bpp .. $stride - 1;
		}
		elsif ($filter == 2)
		{
			$cur[$_] = ($cur[$_] + $prev[$_]) & 255 for 0 .. $stride - 1;
		}
		elsif ($filter == 3)
		{
			for my $i (0 .. $stride - 1)
			{
				my $left = $i >= $bpp ? $cur[ $i - $bpp ] : 0;
				$cur[$i] = ($cur[$i] + (($left + $prev[$i]) >> 1)) & 255;
			}
		}
		elsif ($filter == 4)
		{
			for my $i (0 .. $stride - 1)
			{
				my $left = $i >= $bpp ? $cur[ $i - $bpp ] : 0;
				my $up = $prev[$i];
				my $upleft = $i >= $bpp ? $prev[ $i - $bpp ] : 0;
				my $p = $left + $up - $upleft;
				my ($pa, $pb, $pc) = (abs($p - $left), abs($p - $up), abs($p - $upleft));
				my $pred = ($pa <= $pb && $pa <= $pc) ? $left : ($pb <= $pc ? $up : $upleft);
				$cur[$i] = ($cur[$i] + $pred) & 255;
			}
		}
		elsif ($filter != 0)
		{
			die "$path: unknown filter $filter on row $y";
		}
		for (my $i = 0; $i < $stride; $i += $bpp)
		{
			my ($r, $g, $b) = @cur[ $i .. $i + 2 ];
			$dark++ if $r + $g + $b < 384;
			my $max = $r > $g ? ($r > $b ? $r : $b) : ($g > $b ? $g : $b);
			my $min = $r < $g ? ($r < $b ? $r : $b) : ($g < $b ? $g : $b);
			$tinted++ if $max - $min >= 8 && $max < 250;
		}
		@prev = @cur;
	}
	return { width => $width, height => $height, dark => $dark, tinted => $tinted };
}

1;
