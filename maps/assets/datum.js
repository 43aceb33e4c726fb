/*
 * respmap: WGS-84 -> GCJ-02 in the browser, for maps drawn on AMap tiles.
 *
 * The page's overlays are shifted to GCJ-02 on the server (geo/datums.py);
 * positions the browser produces itself (navigator.geolocation, always
 * WGS-84) must be shifted the same way or the "you are here" dot lands about
 * 500 m off at Ankang. This is the public forward formula (Krasovsky 1940
 * ellipsoid), the same one geo/datums.py implements; the tests compare them.
 */
(function () {
  'use strict';
  var A = 6378245.0;
  var EE = 0.00669342162296594323;
  var PI = Math.PI;

  function outOfChina(lng, lat) {
    return lng < 72.004 || lng > 137.8347 || lat < 0.8293 || lat > 55.8271;
  }

  function shiftLat(x, y) {
    var r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    r += (20.0 * Math.sin(y * PI) + 40.0 * Math.sin(y / 3.0 * PI)) * 2.0 / 3.0;
    r += (160.0 * Math.sin(y / 12.0 * PI) + 320.0 * Math.sin(y * PI / 30.0)) * 2.0 / 3.0;
    return r;
  }

  function shiftLng(x, y) {
    var r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    r += (20.0 * Math.sin(x * PI) + 40.0 * Math.sin(x / 3.0 * PI)) * 2.0 / 3.0;
    r += (150.0 * Math.sin(x / 12.0 * PI) + 300.0 * Math.sin(x / 30.0 * PI)) * 2.0 / 3.0;
    return r;
  }

  /** [lng, lat] in GCJ-02 for a WGS-84 position (unchanged outside China). */
  function wgs84ToGcj02(lng, lat) {
    if (outOfChina(lng, lat)) { return [lng, lat]; }
    var dLat = shiftLat(lng - 105.0, lat - 35.0);
    var dLng = shiftLng(lng - 105.0, lat - 35.0);
    var radLat = lat / 180.0 * PI;
    var magic = Math.sin(radLat);
    magic = 1 - EE * magic * magic;
    var sqrtMagic = Math.sqrt(magic);
    dLat = (dLat * 180.0) / ((A * (1 - EE)) / (magic * sqrtMagic) * PI);
    dLng = (dLng * 180.0) / (A / sqrtMagic * Math.cos(radLat) * PI);
    return [lng + dLng, lat + dLat];
  }

  window.respmapDatum = { wgs84ToGcj02: wgs84ToGcj02 };
})();
