"""Where things go on a printed page that is mailed: a US Letter sheet folded in three into a
#10 double-window envelope (4 1/8 × 9 1/2 in).

The windows of a standard #10 double-window envelope, measured from the sheet's top-left corner
as it sits folded in the envelope: the upper window shows who it is from (the remit-to address,
which is also where the stub goes back to), the lower one whom it is for. The text starts 1/8 in
inside each window (templates/includes/mail_styles.html) so a sheet that shifts a little still
shows it whole. Envelopes differ by maker: check these against the envelope's and the lockbox
bank's specifications with a test print before the first mailing. The return stub
is the top third of page 1, above a dashed line; its scan line is what the bank's lockbox
machine reads (billing.scanline).
"""

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class Box:
    left: float  # inches from the sheet's left edge
    top: float  # inches from the sheet's top edge
    width: float
    height: float

    def holds(self, x: float, y: float) -> bool:
        return self.left <= x <= self.left + self.width and self.top <= y <= self.top + self.height


@dataclass(frozen=True)
class MailLayout:
    return_window: Box = Box(left=0.875, top=0.625, width=3.25, height=0.875)
    mailing_window: Box = Box(left=0.875, top=2.0, width=3.75, height=1.0)
    scan_line: Box = Box(left=0.875, top=3.2, width=6.5, height=0.25)
    stub_height: float = 3.6  # the top third (11 in / 3 = 3.67 in), above the fold


LAYOUT = MailLayout()


def remit_to_lines() -> list[str]:
    """UTILITY_REMIT_TO ("PO Box 6940, Clearwater, OR 97228-6940") as the lines of an address:
    the street part, then city, state and ZIP."""
    parts = [part.strip() for part in settings.UTILITY_REMIT_TO.split(",") if part.strip()]
    if len(parts) >= 3:
        return [", ".join(parts[:-2]), f"{parts[-2]}, {parts[-1]}"]
    return parts
