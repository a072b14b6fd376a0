"""Paper that counts: the printable documents of a neighbourhood's official record.

The session agenda, the results with the ballots' fingerprint, the minutes, the forwarding letter
to a body (with its reference number and a QR code to the public case page) and the invitation
letters (with a QR code to the join page). Each is a page with a print stylesheet and, at the same
address with `.pdf`, a PDF made by `assembly.printing`. A document is written in the language of the
neighbourhood it belongs to (a muhtar may ask for another language with `?language=`), right to
left for Persian, with the dates of its calendar and the times of its time zone.
"""
